// Benchmark 1: edge CPU per event. Runs mixed 100-event batches through the exact ingest code
// path (parse, batch schema, per-event limits and validation, skew, enrichment, redaction,
// row serialization) and, in the same run, the baseline JSON.parse + JSON.stringify of the
// same bytes. `npm run bench:cpu`
import { BatchRequest, DEFAULT_POLICY } from "../schemas";
import { createRedactor } from "../workers/lib/redact";
import { prepareBatch } from "../workers/ingest/pipeline";
import { parseTime } from "../workers/ingest/skew";
import { makeBatch, rng } from "./fixtures";
import { report } from "./report";

const BATCHES = 200;
const EVENTS_PER_BATCH = 100;
const ROUNDS = 7;

function ingestPath(text: string): number {
  const body = BatchRequest.parse(JSON.parse(text));
  const prepared = prepareBatch(body.batch, {
    appId: "app_bench",
    receivedAt: Date.now(),
    sentAt: parseTime(body.sentAt),
    context: body.context,
    ip: "203.0.113.77",
    userAgent: "",
    geo: { country: "DE", region: "BE", city: "Berlin" },
    ipMode: "truncate",
    redactor: createRedactor(DEFAULT_POLICY, "ab".repeat(32)),
  });
  // prepareBatch serializes each row as stored (its size is one of the limits): the rows the
  // batcher receives are `e.encoded`, not encoded again here.
  return prepared.bytes + prepared.rejected.length;
}

function baseline(text: string): number {
  return JSON.stringify(JSON.parse(text)).length;
}

function timeIt(bodies: readonly string[], fn: (t: string) => number): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (const b of bodies) sink += fn(b);
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return ns;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const r = rng(42);
const bodies = Array.from({ length: BATCHES }, (_, i) => JSON.stringify(makeBatch(r, EVENTS_PER_BATCH, i * EVENTS_PER_BATCH)));
const avgBytes = bodies.reduce((n, b) => n + b.length, 0) / (BATCHES * EVENTS_PER_BATCH);

// Warm up both paths so the JIT has compiled them before timing.
timeIt(bodies, ingestPath);
timeIt(bodies, baseline);
const ingestNs: number[] = [];
const baseNs: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  ingestNs.push(timeIt(bodies, ingestPath));
  baseNs.push(timeIt(bodies, baseline));
}
const events = BATCHES * EVENTS_PER_BATCH;
const usPerEvent = median(ingestNs) / events / 1000;
const baseUsPerEvent = median(baseNs) / events / 1000;
const ratio = usPerEvent / baseUsPerEvent;
const msPerBatch = (usPerEvent * EVENTS_PER_BATCH) / 1000;

report("edge-cpu", {
  figures: {
    eventsPerBatch: EVENTS_PER_BATCH,
    avgEventBytes: Math.round(avgBytes),
    ingestUsPerEvent: Number(usPerEvent.toFixed(2)),
    baselineUsPerEvent: Number(baseUsPerEvent.toFixed(2)),
    ratioToBaseline: Number(ratio.toFixed(2)),
    ingestMsPer100EventBatch: Number(msPerBatch.toFixed(3)),
  },
  targets: [
    { name: "ratio to JSON.parse+stringify", target: "<= 3x", met: ratio <= 3 },
    { name: "CPU per 100-event batch", target: "< 1 ms", met: msPerBatch < 1 },
  ],
});
