// Benchmark 2: the whole pipeline under load. Starts the local stack (`npm start` with its own
// ports and a fresh state), creates three apps (one hot, with 4 shards), then drives the edge
// with Segment-shaped batches of 100 events (`--events-per-request`) from many simulated devices
// at rising concurrency.
// Reports accepted events/s and request latency per stage, the lag from acceptance to
// visibility in ClickHouse, and accepted minus stored (which must be 0).
// `--auto-shards` starts the hot app on 1 shard with automatic sharding, on a stack where a
// shard is busy past 2,000 events/s over 10 s, and reports how its count rose under the load
// (decision record 0035): run it with stages longer than the minute a new count waits.
// There a shard is also busy past 100 calls/s that each carry one device's events (decision
// record 0039): `--events-per-request 2` sends requests small enough to pass that mark first.
// `--through-proxy` sends the load through wrangler dev's proxy on the public port, as runs
// before 2026-12-03 did, instead of to the Worker's own socket.
// `npm run bench:e2e -- [--stages 2,4,8,16] [--seconds 8] [--auto-shards] [--events-per-request 100] [--through-proxy]`
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLocalStack } from "../dev/stack";
import { makeRequests, rng } from "./fixtures";
import { report } from "./report";
import { admin, agent, BodyTemplate, chQuery, cpuByPart, postBatch, workerEntry } from "./stack-load";

const { values } = parseArgs({ options: { stages: { type: "string", default: "2,4,8,16" }, seconds: { type: "string", default: "8" }, "auto-shards": { type: "boolean", default: false }, "events-per-request": { type: "string", default: "100" }, "through-proxy": { type: "boolean", default: false } } });
const AUTO_SHARDS = values["auto-shards"];
const STAGES = values.stages.split(",").map(Number);
const STAGE_SECONDS = Number(values.seconds);
const EVENTS_PER_REQUEST = Number(values["events-per-request"]);
const ADMIN_TOKEN = "bench-admin-token";
const RUN = `b${Date.now().toString(36)}`;
const APPS = [
  { id: `app_hot_${RUN}`, share: 0.6, shardCount: AUTO_SHARDS ? 1 : 4, autoShards: AUTO_SHARDS },
  { id: `app_a_${RUN}`, share: 0.2, shardCount: 1, autoShards: false },
  { id: `app_b_${RUN}`, share: 0.2, shardCount: 1, autoShards: false },
];
const HOT_SHARD = { SHARD_HOT_EVENTS_PER_S: "2000", SHARD_HOT_CALLS_PER_S: "100", SHARD_HOT_WINDOW_MS: "10000" };
const TARGETS = { eventsPerSecond: 20_000, p99Ms: 50, lagP95Ms: 5_000, workerdCpuUs: 60 };

function pct(sorted: readonly number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}

interface Stage {
  concurrency: number;
  seconds: number;
  requests: number;
  accepted: number;
  refused: Record<string, number>;
  eventsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  from: number;
  to: number;
  /** CPU microseconds per accepted event, by part of the stack and for this load generator. */
  cpuUsPerEvent: Record<string, number>;
  /**
   * Events/s these costs allow: every part together on this machine's cores, and the workerd
   * thread alone (it runs the Worker, Durable Objects and consumer on one thread), as when the
   * load and ClickHouse run elsewhere, as they do deployed.
   */
  ceilingEventsPerSecond: { allParts: number; workerdThread: number };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bench-e2e-"));
  const stack = await startLocalStack(dir, { ADMIN_TOKEN, DASHBOARD: "off", ...(AUTO_SHARDS ? HOT_SHARD : {}) });
  try {
    const keys: string[] = [];
    for (const app of APPS) {
      await admin(stack.edge, ADMIN_TOKEN, "/admin/apps", { id: app.id, name: app.id, rateLimit: 0, shardCount: app.shardCount, autoShards: app.autoShards });
      const created = (await admin(stack.edge, ADMIN_TOKEN, `/admin/apps/${app.id}/keys`, { name: "bench" })).key as { key: string };
      keys.push(created.key);
    }
    // The load goes to the Worker's own socket, past wrangler dev's proxy (bench/stack-load.ts),
    // unless asked to go through it, to see what the proxy costs.
    const entry = values["through-proxy"] ? stack.edge : await workerEntry(stack.child.pid, stack.edge);
    // Bodies are serialized once; "@@" in every messageId becomes a request counter, so each
    // request carries new ids (BodyTemplate).
    const r = rng(7);
    // Each body comes from one device (or one server) of its own: smaller requests get more bodies, so as many devices send.
    const bodies = Math.max(20, Math.round(2000 / EVENTS_PER_REQUEST));
    const templates = APPS.map(() => makeRequests(r, bodies, EVENTS_PER_REQUEST, { runId: `${RUN}-@@`, devices: 20_000 }).map((t) => new BodyTemplate(t)));
    let counter = 0;
    const pickApp = (): number => {
      const x = Math.random();
      return x < (APPS[0]?.share ?? 0) ? 0 : x < (APPS[0]?.share ?? 0) + (APPS[1]?.share ?? 0) ? 1 : 2;
    };

    const stages: Stage[] = [];
    for (const concurrency of STAGES) {
      const latencies: number[] = [];
      const refused: Record<string, number> = {};
      let accepted = 0;
      let requests = 0;
      const cpuBefore = cpuByPart(stack.child.pid);
      const ownBefore = process.cpuUsage();
      const from = Date.now();
      const stopAt = from + STAGE_SECONDS * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < stopAt) {
            const a = pickApp();
            const list = templates[a] ?? [];
            const n = counter++;
            const body = list[n % list.length]?.body(n) ?? "";
            const t0 = performance.now();
            const res = await postBatch(`${entry}/v1/batch`, keys[a] ?? "", body);
            const answer = JSON.parse(res.text) as { accepted?: number; error?: { code: string } };
            latencies.push(performance.now() - t0);
            requests++;
            if (res.status === 200) accepted += answer.accepted ?? 0;
            else refused[answer.error?.code ?? String(res.status)] = (refused[answer.error?.code ?? String(res.status)] ?? 0) + 1;
          }
        }),
      );
      const to = Date.now();
      const cpuAfter = cpuByPart(stack.child.pid);
      const own = process.cpuUsage(ownBefore);
      const cpuUsPerEvent: Record<string, number> = { loadGenerator: Math.round((own.user + own.system) / Math.max(1, accepted)) };
      for (const [part, seconds] of Object.entries(cpuAfter)) cpuUsPerEvent[part] = Math.round(((seconds - (cpuBefore[part] ?? 0)) * 1e6) / Math.max(1, accepted));
      latencies.sort((x, y) => x - y);
      const allUs = Object.values(cpuUsPerEvent).reduce((n, us) => n + us, 0);
      const ceilingEventsPerSecond = { allParts: Math.round((availableParallelism() * 1e6) / Math.max(1, allUs)), workerdThread: Math.round(1e6 / Math.max(1, cpuUsPerEvent.workerd ?? 0)) };
      const stage: Stage = { concurrency, seconds: (to - from) / 1000, requests, accepted, refused, eventsPerSecond: Math.round(accepted / ((to - from) / 1000)), latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) }, from, to, cpuUsPerEvent, ceilingEventsPerSecond };
      stages.push(stage);
      console.log(`concurrency ${concurrency}: ${stage.eventsPerSecond} events/s, p50 ${stage.latencyMs.p50} ms, p99 ${stage.latencyMs.p99} ms, refused ${JSON.stringify(refused)}, CPU µs/event ${JSON.stringify(cpuUsPerEvent)}; at these costs ${availableParallelism()} cores carry ${ceilingEventsPerSecond.allParts} events/s, the workerd thread alone ${ceilingEventsPerSecond.workerdThread}`);
    }

    const accepted = stages.reduce((n, s) => n + s.accepted, 0);
    const shards = AUTO_SHARDS ? await shardsRose(stack.edge, APPS[0]?.id ?? "", stages[0]?.from ?? 0) : null;
    const apps = APPS.map((a) => a.id);
    const countQuery = "SELECT count() AS n FROM events WHERE app_id IN {apps:Array(String)} AND startsWith(message_id, {run:String})";
    const params = { apps: `[${apps.map((a) => `'${a}'`).join(",")}]`, run: RUN };
    // Crashes over the crash caps are answered as accepted and never stored: the batchers count
    // them (stage `capped`) and ship the counts with the pipeline counters, which the sink writes
    // to pipeline_minutely; every other accepted event must be in `events`.
    const cappedQuery = "SELECT sum(n) AS n FROM pipeline_minutely WHERE app_id IN {apps:Array(String)} AND stage = 'capped'";
    const drainStart = Date.now();
    let stored = 0;
    let capped = 0;
    while (Date.now() - drainStart < 300_000) {
      stored = Number((await chQuery<{ n: string }>(stack.clickhouse, countQuery, params))[0]?.n ?? 0);
      capped = Number((await chQuery<{ n: string }>(stack.clickhouse, cappedQuery, params))[0]?.n ?? 0);
      if (stored + capped >= accepted) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    const drainSeconds = (Date.now() - drainStart) / 1000;
    // A redelivered batch that doubled rows would show here as more rows than distinct ids.
    const distinct = Number((await chQuery<{ n: string }>(stack.clickhouse, countQuery.replace("count()", "uniqExact(message_id)"), params))[0]?.n ?? 0);

    const lagByStage: Record<string, { p50: number; p95: number }> = {};
    for (const s of stages) {
      const [q] = await chQuery<{ q: number[] }>(
        stack.clickhouse,
        `SELECT quantiles(0.5, 0.95)(dateDiff('millisecond', received_at, inserted_at)) AS q FROM events
         WHERE app_id IN {apps:Array(String)} AND startsWith(message_id, {run:String})
           AND received_at >= fromUnixTimestamp64Milli({from:Int64}) AND received_at < fromUnixTimestamp64Milli({to:Int64})`,
        { ...params, from: String(s.from), to: String(s.to) },
      );
      lagByStage[`c${s.concurrency}`] = { p50: Math.round(q?.q[0] ?? 0), p95: Math.round(q?.q[1] ?? 0) };
    }
    const best = stages.reduce((b, s) => (s.eventsPerSecond > b.eventsPerSecond ? s : b), stages[0] ?? ({ eventsPerSecond: 0, latencyMs: { p50: 0, p99: 0 }, concurrency: 0 } as Stage));
    const bestLag = lagByStage[`c${best.concurrency}`] ?? { p50: 0, p95: 0 };

    report(AUTO_SHARDS ? "e2e-load-auto-shards" : "e2e-load", {
      figures: {
        eventsPerRequest: EVENTS_PER_REQUEST,
        stages: stages.map(({ from: _f, to: _t, ...s }) => s),
        lagMsByStage: lagByStage,
        best: { concurrency: best.concurrency, eventsPerSecond: best.eventsPerSecond, latencyMs: best.latencyMs, lagMs: bestLag, cpuUsPerEvent: best.cpuUsPerEvent, ceilingEventsPerSecond: best.ceilingEventsPerSecond },
        accepted,
        stored,
        capped,
        distinctStored: distinct,
        acceptedMinusStoredAndCapped: accepted - stored - capped,
        drainSecondsAfterLoad: Number(drainSeconds.toFixed(1)),
        ...(shards ? { hotAppShards: shards } : {}),
      },
      targets: [
        { name: "sustained accepted events/s", target: `>= ${TARGETS.eventsPerSecond}`, met: best.eventsPerSecond >= TARGETS.eventsPerSecond },
        { name: "ingest latency p99 at that load", target: `<= ${TARGETS.p99Ms} ms`, met: best.latencyMs.p99 <= TARGETS.p99Ms },
        { name: "acceptance-to-ClickHouse lag p95", target: `<= ${TARGETS.lagP95Ms} ms`, met: bestLag.p95 <= TARGETS.lagP95Ms },
        // The process running the Worker, its Durable Objects, queues and consumer: wrangler dev's proxy is counted apart.
        { name: "workerd CPU per event at that load", target: `<= ${TARGETS.workerdCpuUs} µs`, met: (best.cpuUsPerEvent?.workerd ?? Infinity) <= TARGETS.workerdCpuUs },
        { name: "accepted minus stored minus capped crashes", target: "= 0, no duplicates", met: accepted === stored + capped && stored === distinct },
      ],
    });
  } finally {
    agent.destroy();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** How the hot app's shard count rose under the load, and what each shard took. */
async function shardsRose(edge: string, appId: string, loadFrom: number): Promise<{ from: number | null; to: number; inEffectAfterSeconds: number | null; acceptedByShard: number[] }> {
  const { app } = (await admin(edge, ADMIN_TOKEN, `/admin/apps/${appId}`)) as { app: { shardCount: number; previousShardCount: number | null; shardsFrom: number | null } };
  const { shards } = (await admin(edge, ADMIN_TOKEN, `/admin/apps/${appId}/shards`)) as { shards: Array<{ counters: Record<string, number> }> };
  const rose = { from: app.previousShardCount, to: app.shardCount, inEffectAfterSeconds: app.shardsFrom === null ? null : Math.round((app.shardsFrom - loadFrom) / 1000), acceptedByShard: shards.map((s) => s.counters.accepted ?? 0) };
  console.log(`hot app: ${rose.from ?? rose.to} → ${rose.to} shards, in effect ${rose.inEffectAfterSeconds ?? "-"} s after the load began; accepted by shard ${JSON.stringify(rose.acceptedByShard)}`);
  return rose;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
