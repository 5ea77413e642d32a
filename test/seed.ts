import { env, runInDurableObject, SELF } from "cloudflare:test";
import { ROW_FORMAT, type EventRow, type RedactionPolicy } from "../schemas";
import { createApp, createWriteKey, OPERATOR } from "../workers/apps/store";

/** An app and its write key, made through the apps module for a test. */
export interface TestApp {
  appId: string;
  key: string;
}

/** Creates an app (no rate limit unless given) with a fresh write key. */
export async function createTestApp(opts: { rateLimit?: number; shardCount?: number; autoShards?: boolean; policy?: RedactionPolicy } = {}): Promise<TestApp> {
  const suffix = crypto.randomUUID().replace(/-/g, "").slice(0, 12);
  const appId = `app_${suffix}`;
  const app = await createApp(env.DB, OPERATOR, { id: appId, name: `test ${suffix}`, rateLimit: opts.rateLimit ?? 0, shardCount: opts.shardCount ?? 1, autoShards: opts.autoShards, redactionPolicy: opts.policy });
  if (app === "unavailable") throw new Error(`test app id ${appId} is taken`);
  const key = await createWriteKey(env.DB, OPERATOR, appId, { name: "test", key: `wk_test_${suffix}` });
  if (typeof key === "string") throw new Error(`test key for ${appId}: ${key}`);
  return { appId, key: key.key };
}

/** `Authorization: Basic` for a write key, as Segment clients send it. */
export function basicAuth(key: string): string {
  return `Basic ${btoa(`${key}:`)}`;
}

/** POSTs JSON to the Worker under test. */
export function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A valid track event with a fresh messageId. */
export function trackEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "track", event: "Order Completed", anonymousId: "anon-1", messageId: crypto.randomUUID(), properties: { total: 30 }, ...overrides };
}

/** The local ClickHouse's credentials, for requests made to it directly. */
export function chHeaders(): Record<string, string> {
  return { "X-ClickHouse-User": env.CLICKHOUSE_USER || "default", "X-ClickHouse-Key": env.CLICKHOUSE_PASSWORD };
}

/** Runs a query against the local ClickHouse directly (not through the fault proxy). */
export async function chQuery<T>(query: string, params: Record<string, string> = {}): Promise<T[]> {
  const url = new URL(env.CLICKHOUSE_DIRECT_URL);
  url.searchParams.set("query", `${query} FORMAT JSONEachRow`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(`param_${k}`, v);
  const res = await fetch(url, { method: "POST", headers: chHeaders() });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** Switches the fault proxy in front of ClickHouse. */
export async function setClickHouse(mode: "up" | "down" | "error"): Promise<void> {
  const res = await fetch(`${env.CLICKHOUSE_URL}/__fault?mode=${mode}`, { method: "POST" });
  if (!res.ok) throw new Error(`fault proxy: ${res.status}`);
  await res.text();
}

/** A `track` row as the edge encodes it, every other column empty, for driving the sink directly. */
export function blankRow(appId: string, messageId: string, at: string): EventRow {
  return {
    row_format: ROW_FORMAT, app_id: appId, type: "track", event: "Sink Test", message_id: messageId, user_id: "", anonymous_id: "anon", session_id: "",
    timestamp: at, original_timestamp: at, sent_at: at, received_at: at,
    platform: "", os_name: "", os_version: "", app_version: "", app_build: "", device_type: "", device_model: "", device_manufacturer: "",
    browser: "", browser_version: "", library_name: "", library_version: "", locale: "", timezone: "", country: "", region: "", city: "", ip: "",
    path: "", url: "", referrer: "", utm_source: "", utm_medium: "", utm_campaign: "", crash_type: "", crash_message: "", crash_fingerprint: "", crash_fatal: 0,
    perf_metric: "", perf_value: 0, perf_unit: "", net_method: "", net_host: "", net_path: "", net_status: 0, duration_ms: 0,
    properties: {}, traits: {}, context: {}, redactions: 0,
    path_template: "", net_template: "", net_outcome: "", net_request_bytes: 0, net_response_bytes: 0, batch_id: "",
  };
}

/** Inserts rows (JSONEachRow, times in any ISO form) into a table of the local ClickHouse directly, e.g. aged events. */
export async function chInsert(table: string, rows: ReadonlyArray<Record<string, string | number>>): Promise<void> {
  const url = new URL(env.CLICKHOUSE_DIRECT_URL);
  url.searchParams.set("query", `INSERT INTO ${table} FORMAT JSONEachRow`);
  url.searchParams.set("date_time_input_format", "best_effort");
  const res = await fetch(url, { method: "POST", headers: chHeaders(), body: rows.map((r) => JSON.stringify(r)).join("\n") });
  if (!res.ok) throw new Error(await res.text());
}

/**
 * Restarts one Durable Object as the platform would after an eviction or a crash: its memory is
 * gone, its storage and alarm stay. Only this object: abortAllDurableObjects() would also break
 * earlier tests' objects in the middle of their own alarms, which workerd then retries into the
 * next test and which once left the test runner waiting forever.
 */
export async function restart(stub: DurableObjectStub): Promise<void> {
  const reason = "test restart";
  const outcome = await runInDurableObject(stub, (_instance, state) => state.abort(reason)).then(
    () => null,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error && outcome.message === reason)) throw new Error(`the object did not restart: ${String(outcome)}`);
}

/** Random text that barely packs (base64 of random bytes): rows of it test the queue's packed limits. */
export function noise(chars: number): string {
  let out = "";
  // getRandomValues fills at most 64 KB at a time.
  while (out.length < chars) out += btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(3 * 4_096))));
  return out.slice(0, chars);
}
