// An asynchronous D1 binding for Node tests over the real D1 inside Miniflare. Miniflare's own
// `getD1Database` proxy blocks Node on a synchronous channel for each call, and on a busy
// machine that channel fails whole test files at random; here every call is a plain
// `dispatchFetch` to a small Worker that runs the statements on its D1 binding.
import type { Miniflare } from "miniflare";

type Value = string | number | boolean | null;
type Call = { sql: string; params: Value[] };
type Request =
  | { op: "first"; stmt: Call; column?: string }
  | { op: "all" | "run"; stmt: Call }
  | { op: "raw"; stmt: Call; columnNames: boolean }
  | { op: "batch"; stmts: Call[] }
  | { op: "exec"; sql: string };

/** The Worker that executes statements; bind it with `d1Databases: { DB: ... }`. */
export const D1_EXECUTOR_SCRIPT = `
const statement = (db, s) => db.prepare(s.sql).bind(...s.params);
export default {
  async fetch(request, env) {
    const r = await request.json();
    try {
      let result;
      if (r.op === "first") result = r.column === undefined ? await statement(env.DB, r.stmt).first() : await statement(env.DB, r.stmt).first(r.column);
      else if (r.op === "all") result = await statement(env.DB, r.stmt).all();
      else if (r.op === "run") result = await statement(env.DB, r.stmt).run();
      else if (r.op === "raw") result = await statement(env.DB, r.stmt).raw({ columnNames: r.columnNames });
      else if (r.op === "batch") result = await env.DB.batch(r.stmts.map((s) => statement(env.DB, s)));
      else if (r.op === "exec") result = await env.DB.exec(r.sql);
      else return Response.json({ error: "unknown operation " + r.op });
      return Response.json({ result: result ?? null });
    } catch (err) {
      return Response.json({ error: err instanceof Error ? err.message : String(err) });
    }
  },
};
`;

function toValue(v: unknown): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  throw new TypeError(`D1 test binding: unsupported bound value of type ${typeof v}`);
}

class RemoteD1 {
  constructor(private readonly mf: Miniflare) {}

  async call<T>(request: Request): Promise<T> {
    const res = await this.mf.dispatchFetch("http://d1.test/", { method: "POST", body: JSON.stringify(request) });
    const body = (await res.json()) as { result?: T; error?: string };
    if (body.error !== undefined) throw new Error(body.error);
    return body.result as T;
  }

  prepare(sql: string): RemoteStatement {
    return new RemoteStatement(this, { sql, params: [] });
  }

  async batch<T = unknown>(statements: RemoteStatement[]): Promise<D1Result<T>[]> {
    return this.call<D1Result<T>[]>({ op: "batch", stmts: statements.map((s) => s.call) });
  }

  async exec(sql: string): Promise<D1ExecResult> {
    return this.call<D1ExecResult>({ op: "exec", sql });
  }
}

class RemoteStatement {
  constructor(
    private readonly d1: RemoteD1,
    readonly call: Call,
  ) {}

  bind(...values: unknown[]): RemoteStatement {
    return new RemoteStatement(this.d1, { sql: this.call.sql, params: values.map(toValue) });
  }

  first<T = Record<string, unknown>>(column?: string): Promise<T | null> {
    return this.d1.call<T | null>(column === undefined ? { op: "first", stmt: this.call } : { op: "first", stmt: this.call, column });
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.d1.call<D1Result<T>>({ op: "all", stmt: this.call });
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.d1.call<D1Result<T>>({ op: "run", stmt: this.call });
  }

  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[]> {
    return this.d1.call<T[]>({ op: "raw", stmt: this.call, columnNames: options?.columnNames ?? false });
  }
}

/**
 * The D1 database bound as `DB` in `mf` (whose script is D1_EXECUTOR_SCRIPT), as the parts of
 * `D1Database` the dashboard uses: prepare, bind, first, all, run, raw, batch and exec.
 */
export function remoteD1(mf: Miniflare): D1Database {
  return new RemoteD1(mf) as unknown as D1Database;
}
