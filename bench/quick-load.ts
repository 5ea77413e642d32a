// A quick, bounded load against a running stack (`npm start`): concurrent clients post
// 100-event batches for a fixed time, then we wait until ClickHouse holds every accepted event.
// `npm run bench:quick -- --seconds 10 --concurrency 8`
import { parseArgs } from "node:util";
import { DEMO_APP_ID, DEMO_WRITE_KEY } from "../dev/local";

const { values } = parseArgs({
  options: {
    edge: { type: "string", default: process.env.EDGE_URL ?? "http://127.0.0.1:8787" },
    clickhouse: { type: "string", default: process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:8123" },
    key: { type: "string", default: process.env.WRITE_KEY ?? DEMO_WRITE_KEY },
    app: { type: "string", default: process.env.APP_ID ?? DEMO_APP_ID },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "8" },
    batch: { type: "string", default: "100" },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const batchSize = Number(values.batch);
const runId = `load-${Date.now()}`;

function event(i: number): Record<string, unknown> {
  const kind = i % 10;
  const base = { messageId: `${runId}-${crypto.randomUUID()}`, anonymousId: `anon-${i % 500}`, timestamp: new Date().toISOString(), context: { library: { name: "bench", version: "1" }, page: { path: `/p/${i % 40}` }, sessionId: `s-${i % 50}` } };
  if (kind < 6) return { ...base, type: "track", event: `Event ${i % 25}`, properties: { run: runId, value: i, plan: "pro", note: "x".repeat(200 + (i % 400)), email: i % 5 === 0 ? "someone@example.com" : undefined } };
  if (kind < 8) return { ...base, type: "page", name: `Page ${i % 40}`, properties: { run: runId } };
  if (kind === 8) return { ...base, type: "perf", metric: { name: "LCP", value: 800 + (i % 2000) }, properties: { run: runId } };
  return { ...base, type: "network", request: { method: "GET", url: `https://api.example.com/items/${i}?page=2`, status: 200, duration: 40 + (i % 90) }, properties: { run: runId } };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function count(): Promise<number> {
  const q = `SELECT count() FROM events WHERE app_id = {app:String} AND JSONExtractString(properties, 'run') = {run:String}`;
  const url = `${values.clickhouse}/?param_app=${encodeURIComponent(values.app)}&param_run=${encodeURIComponent(runId)}`;
  const res = await fetch(url, { method: "POST", body: q });
  return Number((await res.text()).trim());
}

async function main(): Promise<void> {
  const auth = `Basic ${Buffer.from(`${values.key}:`).toString("base64")}`;
  const latencies: number[] = [];
  let accepted = 0;
  let refused = 0;
  let n = 0;
  const stopAt = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < stopAt) {
        const batch = Array.from({ length: batchSize }, () => event(n++));
        const t0 = performance.now();
        const res = await fetch(`${values.edge}/v1/batch`, { method: "POST", headers: { authorization: auth, "content-type": "application/json" }, body: JSON.stringify({ batch, sentAt: new Date().toISOString() }) });
        const body = (await res.json()) as { accepted?: number };
        latencies.push(performance.now() - t0);
        if (res.ok) accepted += body.accepted ?? 0;
        else refused++;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const doneSending = Date.now();
  let stored = 0;
  while (Date.now() - doneSending < 120_000) {
    stored = await count();
    if (stored >= accepted) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const drain = (Date.now() - doneSending) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    seconds: elapsed,
    concurrency,
    batchSize,
    accepted,
    refusedRequests: refused,
    eventsPerSecond: Math.round(accepted / elapsed),
    latencyMs: { p50: Math.round(pct(latencies, 50)), p99: Math.round(pct(latencies, 99)) },
    stored,
    acceptedMinusStored: accepted - stored,
    drainSecondsAfterLastRequest: Number(drain.toFixed(1)),
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
