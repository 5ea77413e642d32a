// Trends from raw events (unique people from the hours they were active where that answers the
// same, people-hourly.ts): each series is one scan of the app's range narrowed by type and event
// (the table's key) and the filters, grouped by the time zone's buckets and the breakdown, with
// the whole range's figure from the same scan (GROUPING SETS) since unique counts do not add up.
// A breakdown keeps the series' top values over the range (by its measure; by event count for
// averages and percentiles, where a tiny group's extreme would rank first) and folds the rest
// into "other"; the previous period, when compared, uses the same top values so lines match.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "../queries/clickhouse.server";
import { appRange, rangeParams } from "../queries/scope";
import { breakdownLabel, breakdownSql } from "./breakdown";
import { filtersSql, type TimeRange } from "./filters";
import { PEOPLE_HOURLY, peopleHourlyServes, typeFilter } from "./people-hourly";
import { identityHashJoin, joinedPersonHash } from "./person";
import { isPropertyMeasure, seriesLabel, type Interval, type Measure, type TrendSeries, type TrendsDef } from "./trends";

export { parseTrends, toTrendsSearch } from "./trends";
export type { TrendsDef } from "./trends";

export interface TrendLine {
  /** Which series of the definition (0-based). */
  series: number;
  label: string;
  /** The breakdown value ("" when the events have none), null without a breakdown. */
  breakdown: string | null;
  /** The breakdown's values beyond the top N, together. */
  other: boolean;
  /** One per bucket; null where a property measure had no value. */
  values: Array<number | null>;
  /** Over the whole range (unique counts are not the sum of the buckets'). */
  total: number | null;
  /** The previous period's values, bucket by bucket, when compared. */
  previous: Array<number | null> | null;
  previousTotal: number | null;
}

export interface TrendsResult {
  /** Each bucket's start, epoch seconds, oldest first. */
  buckets: number[];
  /** The previous period's buckets, aligned index by index with `buckets`, when compared. */
  previousBuckets: number[] | null;
  lines: TrendLine[];
  interval: Interval;
  tz: string;
}

/** The bucket an event falls in, as an instant (the start of the zone's hour, day, Monday or month). */
const BUCKET: Record<Interval, string> = {
  hour: "toStartOfHour(timestamp, {tz:String})",
  day: "toStartOfDay(timestamp, {tz:String})",
  week: "toDateTime(toMonday(timestamp, {tz:String}), {tz:String})",
  month: "toDateTime(toStartOfMonth(timestamp, {tz:String}), {tz:String})",
};

const wallFormats = new Map<string, Intl.DateTimeFormat>();
function wall(epochSec: number, tz: string): { y: number; m: number; d: number; h: number; mi: number; s: number; wd: number } {
  let f = wallFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    wallFormats.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(epochSec * 1000))) if (part.type !== "literal") p[part.type] = Number(part.value);
  const y = p.year ?? 1970;
  const m = p.month ?? 1;
  const d = p.day ?? 1;
  return { y, m, d, h: p.hour ?? 0, mi: p.minute ?? 0, s: p.second ?? 0, wd: new Date(Date.UTC(y, m - 1, d)).getUTCDay() };
}

/** The start of the bucket holding the instant, as ClickHouse's BUCKET computes it. */
function bucketStart(t: number, interval: Interval, tz: string): number {
  const w = wall(t, tz);
  const intoDay = w.h * 3600 + w.mi * 60 + w.s;
  if (interval === "hour") return t - w.mi * 60 - w.s;
  // Days back to the bucket's first day; a DST change on the way is corrected by looking again.
  const back = interval === "day" ? 0 : interval === "week" ? (w.wd + 6) % 7 : w.d - 1;
  let start = t - intoDay - back * 86_400;
  for (let i = 0; i < 2; i++) {
    const s = wall(start, tz);
    const target = Date.UTC(w.y, w.m - 1, w.d - back);
    const seen = Date.UTC(s.y, s.m - 1, s.d);
    start += (target - seen) / 1000 - (s.h * 3600 + s.mi * 60 + s.s);
  }
  return start;
}

/** Every bucket that overlaps the range, oldest first (found by sampling each hour of it). */
export function bucketStarts(range: Pick<TimeRange, "from" | "to">, interval: Interval, tz: string): number[] {
  const seen = new Set<number>();
  for (let t = range.from; t < range.to; t += 3600) seen.add(bucketStart(t, interval, tz));
  if (range.to > range.from) seen.add(bucketStart(range.to - 1, interval, tz));
  return [...seen].sort((a, b) => a - b);
}

/** The period just before the range, as long as it. */
export function previousRange(range: TimeRange): TimeRange {
  const span = range.to - range.from;
  return { ...range, from: range.from - span, to: range.from };
}

/** The numeric property a series reads: null when missing or not a number (booleans read as 0/1). */
const PROP_VALUE = "JSONExtract(properties, {s_prop:String}, 'Nullable(Float64)')";

// Nearest-rank percentiles (the value at rank ⌈p·n⌉, as every percentile of this dashboard):
// quantileExact returns the value at rank ⌊p·n⌋+1, which is ⌈p·n⌉ for a level a hair below p
// (ranks are whole, so the hair changes nothing else below 10^10 values).
const nearestRank = (p: number): string => `quantileExact(${p} - 1e-12)(${PROP_VALUE})`;

function measureSql(m: Measure): string {
  switch (m) {
    case "total":
      return "toFloat64(count())";
    case "users":
      return `toFloat64(uniqIf(${joinedPersonHash("e")}, ${joinedPersonHash("e")} != 0))`;
    case "sessions":
      return "toFloat64(uniqIf(session_id, session_id != ''))";
    case "sum":
      return `sum(${PROP_VALUE})`;
    case "avg":
      return `avg(${PROP_VALUE})`;
    case "p50":
      return nearestRank(0.5);
    case "p90":
      return nearestRank(0.9);
    case "p95":
      return nearestRank(0.95);
    case "p99":
      return nearestRank(0.99);
  }
}

/**
 * A measure as an aggregate state (`state`) and the aggregate of merged states (`merge` of the
 * column `s`): a breakdown's one scan keeps a state per bucket and value, and merging them gives
 * each value's whole range, the top values' ranking and "other", without reading the events again.
 */
function measureStates(m: Measure): { state: string; merge: (s: string) => string } {
  const level = (p: number): string => `${p} - 1e-12`;
  switch (m) {
    case "total":
      return { state: "count()", merge: (s) => `sum(${s})` };
    case "users":
      return { state: `uniqIfState(${joinedPersonHash("e")}, ${joinedPersonHash("e")} != 0)`, merge: (s) => `uniqIfMerge(${s})` };
    case "sessions":
      return { state: "uniqIfState(session_id, session_id != '')", merge: (s) => `uniqIfMerge(${s})` };
    case "sum":
      return { state: `sumState(${PROP_VALUE})`, merge: (s) => `sumMerge(${s})` };
    case "avg":
      return { state: `avgState(${PROP_VALUE})`, merge: (s) => `avgMerge(${s})` };
    case "p50":
    case "p90":
    case "p95":
    case "p99":
      return { state: `quantileExactState(${level(Number(m.slice(1)) / 100)})(${PROP_VALUE})`, merge: (s) => `quantileExactMerge(${level(Number(m.slice(1)) / 100)})(${s})` };
  }
}

/**
 * Whether a series of unique people reads the hours people were active (people_hourly) instead
 * of raw events: no event name, filters or breakdown beyond country, and whole hours.
 */
function readsHours(def: TrendsDef, s: TrendSeries): boolean {
  if (s.measure !== "users" || def.breakdown.kind === "prop" || (def.breakdown.kind === "dim" && def.breakdown.dim !== "country")) return false;
  return peopleHourlyServes({ event: s.event, type: s.type, filters: def.filters, tz: def.tz }, def.compare ? [def.range, previousRange(def.range)] : [def.range]);
}

/** What a series reads: events or people's hours (`hourly`), joined to the identity map when it counts people. */
const fromSql = (s: TrendSeries, hourly: boolean): string => (s.measure === "users" ? `${hourly ? PEOPLE_HOURLY : "events"} AS e${identityHashJoin("e")}` : "events AS e");

/** The events (or people's hours) a series counts in a range, with their parameters. */
function seriesWhere(def: TrendsDef, s: TrendSeries, range: TimeRange, hourly: boolean): { sql: string; params: Params } {
  const f = filtersSql(def.filters);
  const type = typeFilter(s.type, hourly);
  const params: Params = { ...rangeParams(range), ...f.params, ...type.params, tz: def.tz };
  let sql = appRange("timestamp") + type.sql;
  if (s.event) {
    sql += " AND event = {s_event:String}";
    params.s_event = s.event;
  }
  if (isPropertyMeasure(s.measure)) {
    sql += ` AND isNotNull(${PROP_VALUE})`;
    params.s_prop = s.prop;
  }
  if (def.breakdown.kind === "prop") params.s_bkey = def.breakdown.key;
  return { sql: sql + f.sql, params };
}

interface Row {
  t: number;
  b: string;
  other: number;
  whole: number;
  v: number | null;
}

/** Measures a breakdown ranks its values by; the others (averages, percentiles) rank by event count. */
const RANKED_BY_MEASURE: readonly Measure[] = ["total", "users", "sessions", "sum"];

/**
 * A series with a breakdown over the range in one scan: a state per bucket and value, merged
 * over each value's buckets to rank the values (the measure, or the event count; ties by value)
 * and into the whole range's figures, the top N by value and the rest as "other". Returns the
 * rows seriesRows would and the top values, best first.
 */
async function breakdownRows(cfg: DashboardEnv["clickhouse"], appId: string, def: TrendsDef, s: TrendSeries, hourly: boolean): Promise<{ rows: Row[]; top: string[] }> {
  const w = seriesWhere(def, s, def.range, hourly);
  const m = measureStates(s.measure);
  const rank = RANKED_BY_MEASURE.includes(s.measure) ? m.merge("s") : "sum(n)";
  const rows = await queryApp<Row & { rank: number }>(
    cfg,
    appId,
    `SELECT t, other, if(other, '', r) AS b, grouping(t) AS whole, min(rk) AS rank, toFloat64(${m.merge("s")}) AS v FROM (
       SELECT t, r, s, dense_rank() OVER (ORDER BY rv DESC, r) AS rk, rk > {top:UInt32} AS other FROM (
         SELECT t, r, s, toFloat64(${rank} OVER (PARTITION BY r)) AS rv FROM (
           SELECT toUnixTimestamp(${BUCKET[def.interval]}) AS t, ${breakdownSql(def.breakdown, "s_bkey").sql} AS r, ${m.state} AS s, count() AS n
           FROM ${fromSql(s, hourly)} WHERE ${w.sql}
           GROUP BY t, r)))
     GROUP BY GROUPING SETS ((t, b, other), (b, other))`,
    { ...w.params, top: def.top },
  );
  const top = rows
    .filter((r) => Number(r.whole) !== 0 && Number(r.other) === 0)
    .sort((a, b) => Number(a.rank) - Number(b.rank))
    .map((r) => r.b);
  return { rows: rows.map((r) => ({ t: Number(r.t), b: r.b, other: Number(r.other), whole: Number(r.whole), v: r.v === null ? null : Number(r.v) })), top };
}

/** The series per bucket and breakdown value, and over the whole range. */
async function seriesRows(cfg: DashboardEnv["clickhouse"], appId: string, def: TrendsDef, s: TrendSeries, hourly: boolean, range: TimeRange, top: readonly string[] | null): Promise<Row[]> {
  const w = seriesWhere(def, s, range, hourly);
  const split = top === null ? "'' AS b, 0 AS other" : "NOT has({s_top:Array(String)}, r) AS other, if(other, '', r) AS b";
  const rows = await queryApp<Row>(
    cfg,
    appId,
    `WITH ${breakdownSql(def.breakdown, "s_bkey").sql} AS r
     SELECT toUnixTimestamp(${BUCKET[def.interval]}) AS t, ${split}, grouping(t) AS whole, ${measureSql(s.measure)} AS v
     FROM ${fromSql(s, hourly)} WHERE ${w.sql}
     GROUP BY GROUPING SETS ((t, b, other), (b, other))`,
    top === null ? w.params : { ...w.params, s_top: top },
  );
  return rows.map((r) => ({ t: Number(r.t), b: r.b, other: Number(r.other), whole: Number(r.whole), v: r.v === null ? null : Number(r.v) }));
}

const COUNTS: readonly Measure[] = ["total", "users", "sessions", "sum"];

/** Values by bucket index; a bucket with no events is 0 for counts and sums, null otherwise. */
function place(rows: readonly Row[], buckets: readonly number[], empty: number | null): Map<string, { values: Array<number | null>; total: number | null }> {
  const index = new Map(buckets.map((t, i) => [t, i]));
  const out = new Map<string, { values: Array<number | null>; total: number | null }>();
  for (const r of rows) {
    const key = `${r.other}:${r.b}`;
    let line = out.get(key);
    if (!line) {
      line = { values: buckets.map(() => empty), total: empty };
      out.set(key, line);
    }
    // `whole` is 1 on the grouping set without t: the whole range's figure.
    if (r.whole !== 0) line.total = r.v;
    else {
      const i = index.get(r.t);
      if (i !== undefined) line.values[i] = r.v;
    }
  }
  return out;
}

/** Runs the trend for the app: every series (and its previous period) at once. */
export async function runTrends(cfg: DashboardEnv["clickhouse"], appId: string, def: TrendsDef): Promise<TrendsResult> {
  const buckets = bucketStarts(def.range, def.interval, def.tz);
  const prev = def.compare ? previousRange(def.range) : null;
  const previousBuckets = prev ? bucketStarts(prev, def.interval, def.tz).slice(0, buckets.length) : null;
  const lines = await Promise.all(
    def.series.map(async (s, i): Promise<TrendLine[]> => {
      // A breakdown's previous period needs the current top values, so it waits for them.
      // Decided once per series: for a zone other than UTC it looks at every hour of the range.
      const hourly = readsHours(def, s);
      const broken = def.breakdown.kind === "none" ? null : await breakdownRows(cfg, appId, def, s, hourly);
      const top = broken ? broken.top : null;
      const [now, before] = await Promise.all([broken ? broken.rows : seriesRows(cfg, appId, def, s, hourly, def.range, null), prev ? seriesRows(cfg, appId, def, s, hourly, prev, top) : null]);
      const empty = COUNTS.includes(s.measure) ? 0 : null;
      const current = place(now, buckets, empty);
      const earlier = before && previousBuckets ? place(before, previousBuckets, empty) : null;
      // Without a breakdown the series is one line even when nothing matched.
      const keys = top === null ? ["0:"] : [...top.map((v) => `0:${v}`), ...(current.has("1:") || earlier?.has("1:") ? ["1:"] : [])];
      const label = seriesLabel(s);
      return keys
        .filter((k) => top === null || current.has(k) || earlier?.has(k))
        .map((k) => {
          const other = k.startsWith("1:");
          const value = k.slice(2);
          const c = current.get(k) ?? { values: buckets.map(() => empty), total: empty };
          const p = earlier ? (earlier.get(k) ?? { values: buckets.map(() => empty), total: empty }) : null;
          const name = top === null ? label : other ? "Other" : value === "" ? `(no ${breakdownLabel(def.breakdown)})` : value;
          return {
            series: i,
            label: top !== null && def.series.length > 1 ? `${name} · ${label}` : name,
            breakdown: top === null ? null : other ? "" : value,
            other,
            values: c.values,
            total: c.total,
            previous: p ? buckets.map((_, j) => p.values[j] ?? empty) : null,
            previousTotal: p ? p.total : null,
          };
        });
    }),
  );
  return { buckets, previousBuckets, lines: lines.flat(), interval: def.interval, tz: def.tz };
}
