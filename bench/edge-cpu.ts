// Benchmark 1: edge CPU per event. Runs mixed 100-event batches through the exact ingest code
// path (parse, batch schema, per-event limits and validation, skew, enrichment, redaction,
// row serialization) and, in the same run, the baseline JSON.parse + JSON.stringify of the
// same bytes; then the same events through each vendor's door (Segment, PostHog, Sentry), whose
// adapter translates them before that same path. `npm run bench:cpu`
import { BatchRequest, DEFAULT_POLICY } from "../schemas";
import type { DoorBatch } from "../workers/ingest/ingest";
import { fromPostHog } from "../workers/intake/posthog";
import { translateSegment } from "../workers/intake/segment/segment";
import { translateEnvelope } from "../workers/intake/sentry";
import { createRedactor } from "../workers/lib/redact";
import { prepareBatch } from "../workers/ingest/pipeline";
import { parseTime } from "../workers/ingest/skew";
import { makeBatch, rng } from "./fixtures";
import { posthogBatch, segmentBatch, sentryEnvelopes } from "./protocols";
import { report } from "./report";

const BATCHES = 200;
const EVENTS_PER_BATCH = 100;
const ROUNDS = 7;

function ingestPath(text: string): number {
  const body = BatchRequest.parse(JSON.parse(text));
  return prepared({ events: body.batch, envelope: { sentAt: body.sentAt, context: body.context } });
}

// What the ingest use case does with a door's events once the app is known.
function prepared(door: DoorBatch): number {
  const out = prepareBatch(door.events, {
    appId: "app_bench",
    receivedAt: Date.now(),
    sentAt: parseTime(door.envelope.sentAt),
    context: door.envelope.context,
    ip: "203.0.113.77",
    userAgent: "",
    geo: { country: "DE", region: "BE", city: "Berlin" },
    ipMode: "truncate",
    redactor: createRedactor(DEFAULT_POLICY, "ab".repeat(32)),
  });
  // prepareBatch serializes each row as stored (its size is one of the limits): the rows the
  // batcher receives are `e.encoded`, not encoded again here.
  return out.bytes + out.rejected.length;
}

const encoder = new TextEncoder();
// An envelope is JSON lines: its baseline parses and serializes each line.
const envelopeBaseline = (t: string): number => t.split("\n").reduce((n, line) => n + (line === "" ? 0 : baseline(line)), 0);

// Each door's input as its route hands it over: text for the JSON doors, the body's bytes for
// Sentry's envelopes (which may carry binary attachments), so the benchmark's own encoding of
// its fixtures is never timed as the door's work.
interface DoorSpec<I> {
  name: string;
  bodies: (r: () => number, batch: number) => string[];
  input: (t: string) => I;
  run: (input: I) => number;
  base?: (t: string) => number;
}
interface Door {
  name: string;
  bodies: (r: () => number, batch: number) => string[];
  /** Median µs per event through the door and of its JSON baseline, over `bodies`. */
  measure: (bodies: readonly string[], events: number) => { us: number; baseUs: number };
}
const doorOf = <I>(d: DoorSpec<I>): Door => ({
  name: d.name,
  bodies: d.bodies,
  measure: (bodies, events) => perEvent(bodies, bodies.map(d.input), events, d.run, d.base),
});

const doors: readonly Door[] = [
  doorOf({ name: "segment", bodies: (r, b) => [segmentBatch(r, EVENTS_PER_BATCH, b * EVENTS_PER_BATCH)], input: (t) => t, run: (t) => prepared(translateSegment(t, { kind: "batch" })) }),
  doorOf({ name: "posthog", bodies: (r, b) => [posthogBatch(r, EVENTS_PER_BATCH, b * EVENTS_PER_BATCH)], input: (t) => t, run: (t) => prepared(fromPostHog(t, {}, { receivedAt: Date.now() })) }),
  doorOf({
    name: "sentry",
    bodies: (r, b) => sentryEnvelopes(r, EVENTS_PER_BATCH, b * EVENTS_PER_BATCH),
    input: (t) => encoder.encode(t),
    run: (bytes: Uint8Array) => {
      const batch = translateEnvelope(bytes);
      return prepared({ events: batch.events, envelope: { sentAt: batch.sentAt } });
    },
    base: envelopeBaseline,
  }),
];

function baseline(text: string): number {
  return JSON.stringify(JSON.parse(text)).length;
}

function timeIt<I>(bodies: readonly I[], fn: (input: I) => number): number {
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

/** Median µs per event of `path` over `inputs` and of the JSON baseline over the same bodies as text, after a warm-up. */
function perEvent<I>(bodies: readonly string[], inputs: readonly I[], events: number, path: (input: I) => number, base: (t: string) => number = baseline): { us: number; baseUs: number } {
  timeIt(inputs, path);
  timeIt(bodies, base);
  const ns: number[] = [];
  const baseNs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ns.push(timeIt(inputs, path));
    baseNs.push(timeIt(bodies, base));
  }
  return { us: median(ns) / events / 1000, baseUs: median(baseNs) / events / 1000 };
}

const r = rng(42);
const bodies = Array.from({ length: BATCHES }, (_, i) => JSON.stringify(makeBatch(r, EVENTS_PER_BATCH, i * EVENTS_PER_BATCH)));
const avgBytes = bodies.reduce((n, b) => n + b.length, 0) / (BATCHES * EVENTS_PER_BATCH);

const events = BATCHES * EVENTS_PER_BATCH;
const native = perEvent(bodies, bodies, events, ingestPath);
const usPerEvent = native.us;
const baseUsPerEvent = native.baseUs;
const ratio = usPerEvent / baseUsPerEvent;

// Each door on the same events as its client sends them: µs per event, against the JSON
// baseline of its own bytes and against our native door.
const perDoor: Record<string, { usPerEvent: number; ratioToBaseline: number; ratioToNative: number }> = {};
for (const d of doors) {
  const dr = rng(42);
  const doorBodies = Array.from({ length: BATCHES }, (_, b) => d.bodies(dr, b)).flat();
  const m = d.measure(doorBodies, events);
  perDoor[d.name] = { usPerEvent: Number(m.us.toFixed(2)), ratioToBaseline: Number((m.us / m.baseUs).toFixed(2)), ratioToNative: Number((m.us / usPerEvent).toFixed(2)) };
}
const msPerBatch = (usPerEvent * EVENTS_PER_BATCH) / 1000;

report("edge-cpu", {
  figures: {
    eventsPerBatch: EVENTS_PER_BATCH,
    avgEventBytes: Math.round(avgBytes),
    ingestUsPerEvent: Number(usPerEvent.toFixed(2)),
    baselineUsPerEvent: Number(baseUsPerEvent.toFixed(2)),
    ratioToBaseline: Number(ratio.toFixed(2)),
    ingestMsPer100EventBatch: Number(msPerBatch.toFixed(3)),
    doors: perDoor,
  },
  targets: [
    { name: "ratio to JSON.parse+stringify", target: "<= 3x", met: ratio <= 3 },
    { name: "CPU per 100-event batch", target: "< 1 ms", met: msPerBatch < 1 },
  ],
});
