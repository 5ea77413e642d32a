// Where the local pipeline's workerd CPU goes: starts the local stack, drives the edge with the
// end-to-end benchmark's batches, and records a CPU profile of the isolate that runs the Worker,
// the AppBatchers and the queue consumer together, through `wrangler dev`'s inspector. Prints
// the functions with the most time of their own and with the most time under them, and writes
// the profile to bench/results/workerd.cpuprofile (Chrome DevTools opens it).
// V8's profiler sees JavaScript only: native work that runs between two turns (a SQLite commit
// and its fsync, a stream's gzip) is charged to the next JavaScript frame it samples. `--native`
// records the workerd process with Linux `perf` instead, and prints the native work by kind.
// `npm run bench:profile [-- --seconds 15 --clients 4 --events-per-request 100] [--native]`
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { startLocalStack } from "../dev/stack";
import { makeRequests, rng } from "./fixtures";
import { admin, BodyTemplate, postBatch, workerEntry, workerWorkerd } from "./stack-load";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "15" }, clients: { type: "string", default: "4" }, "events-per-request": { type: "string", default: "100" }, native: { type: "boolean", default: false } } });
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const EVENTS_PER_REQUEST = Number(values["events-per-request"]);
const ADMIN_TOKEN = "bench-admin-token";
// wrangler dev's inspector; its one target is the user Worker's isolate.
const INSPECTOR = "http://127.0.0.1:9229/json";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools protocol session over one WebSocket: `call(method, params)` answers with the result. */
async function inspect(url: string): Promise<{ call: <T>(method: string, params?: object) => Promise<T>; close: () => void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((done, fail) => {
    ws.once("open", () => done());
    ws.once("error", fail);
  });
  let next = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on("message", (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m.result);
  });
  return {
    call: <T>(method: string, params: object = {}) =>
      new Promise<T>((done) => {
        const id = ++next;
        waiting.set(id, (r) => done(r as T));
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

const label = (n: ProfileNode): string => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop() ?? ""}:${n.callFrame.lineNumber}`;

/** Time of its own and time under it, by function, as shares of the profile's busy time. */
function summarize(profile: Profile, top = 25): { busyMs: number; self: Array<[string, number]>; total: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((s, i) => selfUs.set(s, (selfUs.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    busy += us;
    self.set(label(node), (self.get(label(node)) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (!n || n.callFrame.functionName === "(root)") continue;
      const name = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop() ?? ""}`;
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + us);
    }
  }
  const ranked = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, Number(((v / busy) * 100).toFixed(1))]);
  return { busyMs: Math.round(busy / 1000), self: ranked(self), total: ranked(total) };
}

interface Profiler {
  start: () => Promise<void>;
  /** Stops recording and prints what it found. */
  stop: (accepted: number) => Promise<void>;
}

// V8's sampling profiler on the Worker's isolate, through wrangler dev's inspector.
async function v8Profiler(): Promise<Profiler> {
  const targets = (await (await fetch(INSPECTOR)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const target = targets[0];
  if (!target) throw new Error(`no inspector target at ${INSPECTOR}`);
  const session = await inspect(target.webSocketDebuggerUrl);
  await session.call("Profiler.enable");
  await session.call("Profiler.setSamplingInterval", { interval: 500 });
  return {
    start: async () => {
      await session.call("Profiler.start");
    },
    stop: async (accepted) => {
      const { profile } = await session.call<{ profile: Profile }>("Profiler.stop");
      session.close();
      const out = resolve(import.meta.dirname, "results", "workerd.cpuprofile");
      await writeFile(out, JSON.stringify(profile));
      const s = summarize(profile);
      console.log(`\n== workerd profile: ${accepted} events accepted in ${SECONDS} s by ${CLIENTS} clients, ${s.busyMs} ms of the isolate's thread busy; ${out}`);
      console.log("  time of its own (% of busy):");
      for (const [name, pct] of s.self) console.log(`    ${pct.toFixed(1).padStart(5)} %  ${name}`);
      console.log("  time under it (% of busy):");
      for (const [name, pct] of s.total) console.log(`    ${pct.toFixed(1).padStart(5)} %  ${name}`);
    },
  };
}

// Native frames that name a kind of work, and what the report calls it. A frame's share counts
// everything under it; the kinds overlap where one runs inside another (SQLite inside JavaScript).
const NATIVE_KINDS: ReadonlyArray<[string, string]> = [
  ["v8::internal::MicrotaskQueue::PerformCheckpointInternal", "JavaScript, with what it calls (promise jobs: nearly all of it)"],
  ["sqlite3_step", "SQLite statements, commits included"],
  ["vdbeCommit", "SQLite commits"],
  ["workerd::ActorSqlite::startImplicitTxn()::$_0::operator()", "commits of a turn's writes, after the turn"],
  ["fsync", "fsync"],
  ["workerd::api::node::ZlibUtil::zlibSync", "node:zlib"],
  ["Cr_z_deflate", "gzip"],
  ["Cr_z_inflate", "gunzip"],
  ["v8::internal::Heap::CollectGarbage", "garbage collection on the isolate's thread"],
  ["do_syscall_64", "system calls (kernel)"],
];

// Linux perf on the workerd process running the Worker: every thread, native and kernel frames.
async function nativeProfiler(root: number | undefined, dir: string): Promise<Profiler> {
  const pid = workerWorkerd(root);
  if (pid === undefined) throw new Error("no workerd process found under the stack");
  if (spawnSync("perf", ["--version"]).status !== 0) throw new Error("--native needs Linux perf on the PATH (Debian: apt install linux-perf)");
  const data = join(dir, "perf.data");
  let recording: ReturnType<typeof spawn> | null = null;
  return {
    start: async () => {
      recording = spawn("perf", ["record", "-F", "999", "-g", "-p", String(pid), "-o", data], { stdio: "ignore" });
      // perf attaches within a moment; the load that follows is what it records.
      await new Promise((done) => setTimeout(done, 500));
    },
    stop: async (accepted) => {
      const proc = recording;
      if (!proc) return;
      await new Promise<void>((done) => {
        proc.once("exit", () => done());
        proc.kill("SIGINT");
      });
      const report = (args: string[]): string => spawnSync("perf", ["report", "-i", data, "--stdio", "-g", "none", ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }).stdout;
      // `  12.34%  0.05%  [.] symbol`: the share under the frame, then its own.
      const under = new Map<string, number>();
      // perf pads its symbol column with thousands of spaces before two more columns: the name
      // ends at the first two spaces, cut by hand so that no pattern backtracks over them.
      for (const line of report(["--children", "--sort", "symbol"]).split("\n")) {
        const m = /^\s*([\d.]+)%\s+[\d.]+%\s+\[[.k]\] /.exec(line);
        if (!m?.[1]) continue;
        const rest = line.slice(m[0].length).trimStart();
        const name = rest.slice(0, rest.indexOf("  ") < 0 ? rest.length : rest.indexOf("  "));
        if (!under.has(name)) under.set(name, Number(m[1]));
      }
      console.log(`\n== workerd native profile (perf, process ${pid}): ${accepted} events accepted in ${SECONDS} s by ${CLIENTS} clients`);
      console.log("  time under each kind of work (% of the process's samples):");
      for (const [frame, kind] of NATIVE_KINDS) console.log(`    ${(under.get(frame) ?? 0).toFixed(1).padStart(5)} %  ${kind}`);
      console.log("  time of its own, by binary:");
      for (const line of report(["--no-children", "--sort", "dso"]).split("\n")) {
        const m = /^\s*([\d.]+)%\s+(.+)$/.exec(line.trimEnd());
        if (m?.[1] && m[2] && Number(m[1]) >= 0.5) console.log(`    ${Number(m[1]).toFixed(1).padStart(5)} %  ${m[2]}`);
      }
    },
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bench-profile-"));
  const stack = await startLocalStack(dir, { ADMIN_TOKEN, DASHBOARD: "off", LOCAL_CRON: "off" });
  try {
    const app = `app_profile_${Date.now().toString(36)}`;
    await admin(stack.edge, ADMIN_TOKEN, "/admin/apps", { id: app, name: app, rateLimit: 0, shardCount: 4 });
    const key = ((await admin(stack.edge, ADMIN_TOKEN, `/admin/apps/${app}/keys`, { name: "profile" })).key as { key: string }).key;
    const profiler = values.native ? await nativeProfiler(stack.child.pid, dir) : await v8Profiler();
    const entry = await workerEntry(stack.child.pid, stack.edge);
    const r = rng(7);
    const templates = makeRequests(r, Math.max(20, Math.round(2000 / EVENTS_PER_REQUEST)), EVENTS_PER_REQUEST, { runId: `${app}-@@`, devices: 20_000 }).map((t) => new BodyTemplate(t));
    let counter = 0;
    let accepted = 0;
    await profiler.start();
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < end) {
          const n = counter++;
          const res = await postBatch(`${entry}/v1/batch`, key, templates[n % templates.length]?.body(n) ?? "");
          if (res.status === 200) accepted += EVENTS_PER_REQUEST;
        }
      }),
    );
    // The flushes and the consumer's inserts of what was accepted, in the same profile.
    await new Promise((done) => setTimeout(done, 8_000));
    await profiler.stop(accepted);
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
