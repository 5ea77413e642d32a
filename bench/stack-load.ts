// What the benchmarks that drive a local stack share: posting batches to the edge, admin
// calls, ClickHouse queries, and the CPU each part of the stack has used (from /proc).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import type { ClickHouseTarget } from "../dev/clickhouse/target";

// node:http with keep-alive costs the load generator a fraction of what fetch does, and every
// cycle it saves is one the stack under test gets on this shared machine.
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs a JSON body to the edge with a write key; the status and the answer's text. */
export function postBatch(url: string, key: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method: "POST", agent, headers: { "x-write-key": key, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end(body);
  });
}

/** Calls an admin route (`body` given: POST, else GET) and returns its JSON, or throws with its answer. */
export async function admin(edge: string, token: string, path: string, body?: object): Promise<Record<string, unknown>> {
  const init = body === undefined ? { method: "GET" } : { method: "POST", body: JSON.stringify(body) };
  const res = await fetch(`${edge}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
  if (!res.ok) throw new Error(`${init.method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** A query to the local ClickHouse with `{name:Type}` parameters, as JSON rows. */
export async function chQuery<T>(ch: ClickHouseTarget, query: string, params: Record<string, string>): Promise<T[]> {
  const u = new URL(ch.url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(`param_${k}`, v);
  const headers = { "X-ClickHouse-User": ch.username, "X-ClickHouse-Key": ch.password };
  const res = await fetch(u, { method: "POST", headers, body: `${query} FORMAT JSONEachRow` });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as T);
}

// CPU seconds used so far by each part of the stack, from /proc (Linux): the workerd running
// the Worker, Durable Objects and queues; the process serving ClickHouse (npm start's own); and
// the rest (wrangler's CLI and its proxy).
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

// The CPU seconds so far of one process, from /proc.
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8");
  const after = fields.slice(fields.lastIndexOf(")") + 2).split(" ");
  return (Number(after[11]) + Number(after[12])) / 100;
}

const isWorkerd = (pid: number): boolean => {
  const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  return cmd.includes("workerd") && cmd.includes("serve");
};

/** The workerd process of the stack started as `root` that has used the most CPU: the one running the Worker (the entry proxy is small). */
export function busiestWorkerd(root: number | undefined): number | undefined {
  if (root === undefined || !existsSync("/proc/self/stat")) return undefined;
  let best: { pid: number; seconds: number } | undefined;
  for (const pid of processTree(root)) {
    try {
      if (!isWorkerd(pid)) continue;
      const seconds = cpuSeconds(pid);
      if (!best || seconds > best.seconds) best = { pid, seconds };
    } catch {
      // the process ended while we looked
    }
  }
  return best?.pid;
}

/** CPU seconds so far of the stack started as `root`, by part: workerd, the ClickHouse server (the root itself) and the rest. */
export function cpuByPart(root: number | undefined): Record<string, number> {
  const parts: Record<string, number> = { workerd: 0, clickhouse: 0, other: 0 };
  if (root === undefined || !existsSync("/proc/self/stat")) return parts;
  for (const pid of processTree(root)) {
    try {
      const seconds = cpuSeconds(pid);
      const part = pid === root ? "clickhouse" : isWorkerd(pid) ? "workerd" : "other";
      parts[part] = (parts[part] ?? 0) + seconds;
    } catch {
      // the process ended while we looked
    }
  }
  return parts;
}
