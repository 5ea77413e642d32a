import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve } from "node:path";

/** A benchmark's result: its figures and how each target fared. Benchmarks never fail on a target. */
export interface BenchResult {
  figures: Record<string, unknown>;
  targets: Array<{ name: string; target: string; met: boolean }>;
}

/** Prints a result and writes it to bench/results/<name>.json with the machine it ran on. */
export function report(name: string, result: BenchResult): void {
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? "", node: process.version, at: new Date().toISOString() };
  const full = { bench: name, machine, ...result };
  const dir = resolve(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${name}.json`), `${JSON.stringify(full, null, 2)}\n`);
  console.log(`\n== ${name} (${machine.cpus} cores, ${machine.model}, node ${machine.node})`);
  for (const [k, v] of Object.entries(result.figures)) console.log(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
  for (const t of result.targets) console.log(`  target ${t.name} ${t.target}: ${t.met ? "met" : "NOT met"}`);
}
