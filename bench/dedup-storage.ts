// A shard's dedup filters over a day and more (decision record 0021, tier 2): the AppBatcher's
// own ArrivalFilters fed as its flushes feed them, every id moved to the filters a minute after
// it came, at one shard's rate for longer than the filters keep anything, with a simulated clock.
// Reports the bytes the filters keep at their largest (what the shard's SQLite holds for them),
// the share of new ids they cannot rule out (which the sink looks up in ClickHouse) and the rows
// each move writes. `npm run bench:dedup [-- --rate 10000 --hours 42]`: every id is added, so a
// run takes minutes; the bytes and rows scale with the rate, the share marked does not.
import { parseArgs } from "node:util";
import { ArrivalFilters, BITS_PER_ID, DEFAULT_WINDOW, MemoryPages } from "../durable-objects/dedup/bloom";
import { fmix32, type Fingerprint } from "../durable-objects/dedup/fingerprint";
import { report } from "./report";

const { values } = parseArgs({ options: { rate: { type: "string", default: "10000" }, hours: { type: "string", default: "42" }, probes: { type: "string", default: "100000" } } });
const RATE = Number(values.rate);
const HOURS = Number(values.hours);
const PROBES = Number(values.probes);
const MOVE_MS = 60_000;
const HOUR = 3_600_000;
const TARGET_BYTES = 1e9;

// Fingerprints as the shard makes them from messageIds: two well-mixed halves, `lo` never 0.
// Added ids count up from 1, probed ones down from 2^31, so no probe repeats an added id.
let added = 0;
let probed = 0;
const addedFp = (): Fingerprint => {
  added++;
  return { hi: fmix32(added * 2 + 1), lo: fmix32(added ^ 0x5bd1e995) | 1 };
};
const probeFp = (): Fingerprint => {
  probed++;
  return { hi: fmix32(0x7fffffff - probed * 2), lo: fmix32((0x7fffffff - probed) ^ 0x27d4eb2f) | 1 };
};

// Pages kept as the filters hand them over, not copied: a copy of every page a move touches is
// what SQLite does, and here would take most of the run.
const store = new MemoryPages(false);
const filters = new ArrivalFilters(store);
filters.load();
// Starts at a partition's start: its first level is sized from nothing, so the figures are read
// once every partition kept was sized from the one before it (a day and two partitions on).
const start = Math.ceil(Date.UTC(2026, 11, 1) / DEFAULT_WINDOW.partMs) * DEFAULT_WINDOW.partMs;
const steadyFrom = start + DEFAULT_WINDOW.keepMs + 2 * DEFAULT_WINDOW.partMs;
const perMove = Math.round((RATE * MOVE_MS) / 1000);

let peakBytes = 0;
let peakIds = 0;
let steadyIds = 0;
let steadyRows = 0;
const maybeShares: number[] = [];
const t0 = process.hrtime.bigint();
for (let now = start + MOVE_MS; now <= start + HOURS * HOUR; now += MOVE_MS) {
  const fps: Fingerprint[] = new Array<Fingerprint>(perMove);
  for (let i = 0; i < perMove; i++) fps[i] = addedFp();
  const before = store.written;
  filters.add(fps, now);
  filters.expire(now);
  if (now < steadyFrom) continue;
  steadyIds += perMove;
  steadyRows += store.written - before;
  const bytes = store.bytes;
  if (bytes > peakBytes) {
    peakBytes = bytes;
    peakIds = filters.size.ids;
  }
  if ((now - start) % HOUR === 0) {
    const asked: Fingerprint[] = Array.from({ length: PROBES }, probeFp);
    maybeShares.push(filters.probe(asked, now).filter(Boolean).length / PROBES);
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const pct = (x: number): number => Number((x * 100).toFixed(2));
const scaledTo10k = (peakBytes * 10_000) / RATE;

report("dedup-storage", {
  figures: {
    eventsPerSecond: RATE,
    simulatedHours: HOURS,
    bitsPerId: BITS_PER_ID,
    window: `${DEFAULT_WINDOW.partMs / HOUR}-hour partitions kept ${DEFAULT_WINDOW.keepMs / HOUR} h after they end`,
    peakFilterBytes: peakBytes,
    peakFilterGB: Number((peakBytes / 1e9).toFixed(3)),
    idsKeptAtPeak: peakIds,
    hoursOfIdsAtPeak: Number((peakIds / RATE / 3600).toFixed(1)),
    // Levels are sized for a whole partition when it starts: the bytes hold more hours than the ids.
    filterCapacityHours: Number((peakBytes / ((RATE * BITS_PER_ID) / 8) / 3600).toFixed(1)),
    newIdsMarkedForClickHousePct: { mean: pct(maybeShares.reduce((a, b) => a + b, 0) / Math.max(1, maybeShares.length)), max: pct(Math.max(0, ...maybeShares)), min: pct(Math.min(1, ...maybeShares)) },
    filterRowsWrittenPerEvent: Number((steadyRows / Math.max(1, steadyIds)).toFixed(5)),
    runSeconds: Number(seconds.toFixed(1)),
  },
  targets: [{ name: "DO storage per shard at 10,000 events/s", target: "<= 1 GB", met: scaledTo10k <= TARGET_BYTES }],
});
