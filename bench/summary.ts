// Prints every benchmark's targets from bench/results/*.json: the last lines of `npm run bench`.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { BenchResult } from "./report";

const dir = resolve(import.meta.dirname, "results");
console.log("\n== summary");
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
  const result = JSON.parse(readFileSync(resolve(dir, file), "utf8")) as BenchResult & { bench: string; machine: { at: string } };
  for (const t of result.targets) console.log(`  ${result.bench}: ${t.name} ${t.target}: ${t.met ? "met" : "NOT met"}`);
}
