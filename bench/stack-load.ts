// What the benchmarks that drive a local stack share: posting batches to the edge, admin
// calls, ClickHouse queries, and the CPU each part of the stack has used (from /proc).
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { Agent, request } from "node:http";
import type { ClickHouseTarget } from "../dev/clickhouse/target";

// node:http with keep-alive costs the load generator a fraction of what fetch does, and every
// cycle it saves is one the stack under test gets on this shared machine.
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * A request body serialized once, with "@@" in every messageId standing for a request counter:
 * `body(n)` is its bytes with `n` there. The bytes are joined, never re-encoded, so the load
 * generator spends its share of the shared cores sending, not rewriting 140 KB strings.
 */
export class BodyTemplate {
  private readonly parts: Buffer[];

  constructor(readonly text: string) {
    this.parts = text.split("@@").map((part) => Buffer.from(part, "utf8"));
  }

  body(n: number): Buffer {
    const counter = Buffer.from(String(n), "latin1");
    const pieces: Buffer[] = [];
    for (let i = 0; i < this.parts.length; i++) {
      if (i > 0) pieces.push(counter);
      pieces.push(this.parts[i] ?? Buffer.alloc(0));
    }
    return Buffer.concat(pieces);
  }
}

/** POSTs a JSON body to the edge with a write key; the status and the answer's text. */
export function postBatch(url: string, key: string, body: string | Buffer): Promise<{ status: number; text: string }> {
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
// the Worker, Durable Objects and queues; wrangler dev's proxy in front of it; the process
// serving ClickHouse (npm start's own); and the rest (wrangler's CLI).
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

/**
 * What a process of the stack is. `wrangler dev` runs two workerd processes: a proxy on the
 * public port, which holds requests while the Worker reloads and forwards each over HTTP, and the
 * one running the Worker, its Durable Objects, queues and D1, whose entry socket takes any free
 * port (`entry=…:0`). Production has no such proxy, so its CPU is counted apart.
 */
function kindOf(pid: number, root: number): "workerd" | "devProxy" | "clickhouse" | "other" {
  if (pid === root) return "clickhouse";
  const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  if (!cmd.includes("workerd") || !cmd.includes("serve")) return "other";
  return /--socket-addr=entry=\S*:0(?:\0|$)/.test(cmd) ? "workerd" : "devProxy";
}

/** The workerd process of the stack started as `root` that runs the Worker (not wrangler's proxy). */
export function workerWorkerd(root: number | undefined): number | undefined {
  if (root === undefined || !existsSync("/proc/self/stat")) return undefined;
  for (const pid of processTree(root)) {
    try {
      if (kindOf(pid, root) === "workerd") return pid;
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/**
 * CPU seconds so far of the stack started as `root`, by part: `workerd` (the Worker, Durable
 * Objects, queues and consumer), `devProxy` (wrangler dev's proxy), `clickhouse` (the server,
 * the root itself) and `other`.
 */
export function cpuByPart(root: number | undefined): Record<string, number> {
  const parts: Record<string, number> = { workerd: 0, devProxy: 0, clickhouse: 0, other: 0 };
  if (root === undefined || !existsSync("/proc/self/stat")) return parts;
  for (const pid of processTree(root)) {
    try {
      const part = kindOf(pid, root);
      parts[part] = (parts[part] ?? 0) + cpuSeconds(pid);
    } catch {
      // the process ended while we looked
    }
  }
  return parts;
}

// The TCP ports process `pid` listens on, from its socket inodes and /proc/net/tcp.
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // the descriptor closed while we looked
    }
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // State 0A is LISTEN; the local address ends in the port, in hex.
      if (f[3] === "0A" && f[9] && inodes.has(f[9])) ports.push(parseInt(f[1]?.split(":")[1] ?? "", 16));
    }
  }
  return ports;
}

/**
 * Where load should go: the Worker's own workerd socket, as Cloudflare's front line would reach
 * the Worker, so that wrangler dev's proxy takes none of the shared cores; `edge` itself where
 * that socket cannot be found (not Linux). Of the process's sockets, the entry is the one that
 * answers the Worker's `/health`.
 */
export async function workerEntry(root: number | undefined, edge: string): Promise<string> {
  const pid = workerWorkerd(root);
  if (pid === undefined) return edge;
  for (const port of listeningPorts(pid)) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok && ((await res.json()) as { status?: unknown }).status === "ok") return url;
    } catch {
      // another of workerd's sockets (its loopback or an inspector)
    }
  }
  return edge;
}
