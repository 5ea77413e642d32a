// Reads what the SDK's events became in the local ClickHouse.
import { setTimeout as sleep } from "node:timers/promises";

/** Runs a query with `param_` parameters and returns its rows. */
export async function chQuery<T>(url: string, query: string, params: Record<string, string>): Promise<T[]> {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(`param_${k}`, v);
  const res = await fetch(u, { method: "POST", body: `${query} FORMAT JSONEachRow` });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

/** Polls until `done(rows)` holds, or fails with the last rows after `timeoutMs`. */
export async function waitForRows<T>(fetchRows: () => Promise<T[]>, done: (rows: T[]) => boolean, timeoutMs = 30_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  let rows: T[] = [];
  while (Date.now() < deadline) {
    rows = await fetchRows();
    if (done(rows)) return rows;
    await sleep(500);
  }
  throw new Error(`rows did not arrive in ${timeoutMs / 1000} s; last seen:\n${JSON.stringify(rows, null, 1)}`);
}
