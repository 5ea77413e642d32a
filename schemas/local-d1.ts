// On a developer's machine the edge Worker (`wrangler dev`) and the dashboard (`wrangler pages
// dev`) are two workerd processes over one local D1 file, and SQLite answers a write that meets
// the other process's lock with SQLITE_BUSY at once (workerd sets no busy timeout). Deployed, D1
// is one database behind one endpoint and never says this, so only development wraps its binding.
// A statement or batch that failed busy did not commit, so running it again is safe.
import { isDevelopment } from "./config";

// A busy statement fails in one of two words: SQLite's own, or, when the lock is met inside the
// local D1 object (SQLITE_BUSY_SNAPSHOT: its read snapshot went stale under the other process's
// write), the internal error the binding reports in its place (the log shows the SQLite error).
const BUSY = /SQLITE_BUSY|database is locked|Failed to parse body as JSON, got: Error: internal error/;
/** Enough for the other process to finish a burst of writes; each wait at most 250 ms. */
const ATTEMPTS = 40;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function patiently<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= ATTEMPTS || !BUSY.test(String(err))) throw err;
      await pause(Math.min(250, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
    }
  }
}

const inner = new WeakMap<object, D1PreparedStatement>();
const RUNS = new Set<PropertyKey>(["first", "run", "all", "raw"]);

function statement(raw: D1PreparedStatement): D1PreparedStatement {
  const wrapped = new Proxy(raw, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => statement(target.bind(...values));
      const value: unknown = Reflect.get(target, prop, target);
      if (RUNS.has(prop) && typeof value === "function") return (...args: unknown[]) => patiently(() => Promise.resolve(value.apply(target, args)));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  inner.set(wrapped, raw);
  return wrapped;
}

/** `db` waiting out the other local process's lock instead of failing with SQLITE_BUSY. */
export function patientD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => statement(target.prepare(query));
      if (prop === "batch") return <T>(statements: D1PreparedStatement[]) => patiently(() => target.batch<T>(statements.map((s) => inner.get(s) ?? s)));
      if (prop === "exec") return (query: string) => patiently(() => target.exec(query));
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const patientEnvs = new WeakMap<object, object>();

/** The bindings with `DB` made patient in development; deployed, `env` itself. */
export function localD1Env<E extends { DB: D1Database }>(env: E): E {
  if (!isDevelopment(env)) return env;
  const hit = patientEnvs.get(env);
  if (hit) return hit as E;
  const patient: E = { ...env, DB: patientD1(env.DB) };
  patientEnvs.set(env, patient);
  return patient;
}
