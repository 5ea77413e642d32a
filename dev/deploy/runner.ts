// Every call `npm run deploy` makes to wrangler goes through here: one place that spawns
// `npx wrangler`, shows progress, and, in a dry run, prints what changes the account instead of
// running it.
import { spawn } from "node:child_process";
import { wranglerEnv } from "../local";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Reads the account or builds locally: runs in a dry run too. */
  readOnly?: boolean;
  cwd?: string;
  /** Extra environment (e.g. CLOUDFLARE_API_TOKEN); wrangler's telemetry and state settings always apply. */
  env?: NodeJS.ProcessEnv;
  /** A failure is returned instead of thrown (e.g. a listing of a Worker that does not exist yet). */
  allowFailure?: boolean;
}

export type Wrangler = (args: string[], opts?: RunOptions) => Promise<RunResult>;

/** Runs `npx wrangler <args>` in `root`; `log` gets one progress line per call. */
export function wranglerRunner(root: string, dryRun: boolean, log: (line: string) => void, baseEnv: NodeJS.ProcessEnv = {}): Wrangler {
  return async (args, opts = {}) => {
    const shown = `wrangler ${args.join(" ")}`;
    if (dryRun && opts.readOnly !== true) {
      log(`  would run: ${shown}`);
      return { code: 0, stdout: "", stderr: "" };
    }
    log(`  $ ${shown}`);
    const result = await new Promise<RunResult>((done, fail) => {
      const child = spawn("npx", ["--no-install", "wrangler", ...args], { cwd: opts.cwd ?? root, env: { ...wranglerEnv(root), ...baseEnv, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", fail);
      child.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
    });
    if (result.code !== 0 && opts.allowFailure !== true) {
      throw new Error(`${shown} failed (exit ${result.code}):\n${(result.stderr + result.stdout).trim().slice(-4000)}`);
    }
    return result;
  };
}
