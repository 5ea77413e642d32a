// The whole local stack in a child process, as `npm start` runs it, on free ports and with its
// state in a given directory: for tests and benchmarks that need a stack of their own.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type { ClickHouseTarget } from "./clickhouse/target";

/** A port nothing listens on now: `await freePort()`. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer()
      .once("error", fail)
      .listen(0, "127.0.0.1", () => {
        const addr = srv.address();
        srv.close(() => done(typeof addr === "object" && addr ? addr.port : 0));
      });
  });
}

/** A running local stack: what `npm start` printed, and how to stop it. */
export interface LocalStack {
  edge: string;
  /** The local ClickHouse and the credentials every query needs. */
  clickhouse: ClickHouseTarget;
  appId: string;
  writeKey: string;
  /** The dashboard and its seeded owner's login, when the stack serves one. */
  dashboard?: { url: string; email: string; password: string };
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts dev/start.ts with its state (wrangler's and ClickHouse's) under `dir` and resolves once
 * it prints `ready:`. `const stack = await startLocalStack(await mkdtemp(…)); …; await stack.stop()`
 */
export async function startLocalStack(dir: string, extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 150_000): Promise<LocalStack> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EDGE_PORT: String(await freePort()),
    CLICKHOUSE_PORT: String(await freePort()),
    STATE_DIR: join(dir, "state"),
    CLICKHOUSE_DATA_DIR: join(dir, "clickhouse"),
    // Per-request log lines would cost CPU the stack's work should get.
    WRANGLER_LOG: "warn",
    ...extraEnv,
  };
  delete env.CLICKHOUSE_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "dev/start.ts"], { cwd: resolve(import.meta.dirname, ".."), env, stdio: ["ignore", "pipe", "pipe"] });
  const stop = (): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null) return done();
      const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.once("exit", () => {
        clearTimeout(kill);
        done();
      });
      // dev/start.ts stops wrangler and the local ClickHouse on SIGTERM.
      child.kill("SIGTERM");
    });
  let out = "";
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  // Everything the stack printed, for reading after a failed test (the Worker's errors among it).
  const log = createWriteStream(join(dir, "stack.log"));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return new Promise((done, fail) => {
    const timer = setTimeout(() => void stop().then(() => fail(new Error(`the stack did not start in ${timeoutMs / 1000} s:\n${out}`))), timeoutMs);
    child.once("exit", (code) => fail(new Error(`dev/start.ts exited with ${code}:\n${out}`)));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const field = (name: string): string | undefined => new RegExp(`^${name}: (\\S+)`, "m").exec(out)?.[1];
      const [edge, clickhouseUrl, appId, writeKey] = [field("edge"), field("clickhouse"), field("app"), field("write key")];
      const chLogin = /^clickhouse login: (\S+) \/ (\S+)/m.exec(out);
      if (/^ready:/m.test(out) && edge && clickhouseUrl && chLogin?.[1] && chLogin[2] && appId && writeKey) {
        clearTimeout(timer);
        const clickhouse = { url: clickhouseUrl, username: chLogin[1], password: chLogin[2] };
        const [dashboard, login] = [field("dashboard"), /^login: (\S+) \/ (\S+)/m.exec(out)];
        const dash = dashboard?.startsWith("http") && login?.[1] && login[2] ? { url: dashboard, email: login[1], password: login[2] } : undefined;
        done({ edge, clickhouse, appId, writeKey, dashboard: dash, child, stop });
      }
    });
  });
}
