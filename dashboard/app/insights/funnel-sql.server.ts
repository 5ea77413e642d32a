// The funnel as ClickHouse computes it, one pass over the step events of the range:
// 1. per person (a user id, or the user an anonymous id became), every step event
//    as one number (epoch ms × 16 + step index), sorted; an event that matches two steps counts
//    for both, the earlier step first, as windowFunnel orders them;
// 2. a fold over that array walks the events as ClickHouse's windowFunnel does and keeps, for
//    each step, the timestamps of the latest attempt that reached it (windowFunnel gives only
//    the level; the timestamps give the time between steps). Only people with a second-step
//    event can get past the first step, so only they are folded: the others' level is 1 if they
//    did the first step, which in most funnels is most people;
// 3. people, medians and breakdown buckets (top N, the rest as "other", and the total) from
//    those per-person rows.
// The fold's rules, those of windowFunnel(window[, 'strict_order']): a first-step event starts
// a new attempt; a step-k event extends the attempt at step k-1 when it is no later than that
// attempt's start + window (inclusive); reaching the last step ends the walk; in strict order, a
// step-k event while step k-1 is not reached, once an attempt started, ends the walk. Only step
// events are read, so "strict" is about the other steps' events, not every event.
import type { Params } from "../queries/clickhouse.server";
import { appRange, rangeParams } from "../queries/scope";
import { filtersSql } from "./filters";
import { type FunnelsDef, type FunnelStep, windowMs } from "./funnels";
import { breakdownSql } from "./breakdown";
import { hashedPerson, hasPerson, idHash, identityHashJoin, identityJoin, joinedPersonKey } from "./person";

/** One bucket's figures as the query returns them (the total row has `total_row` 1). */
export interface FunnelRow {
  bucket: string;
  other: number;
  total_row: number;
  /** People who reached step 1, 2, … n. */
  people: number[];
  /** Median ms from step k to step k+1 (n - 1 values; null when nobody). */
  medians: Array<number | null>;
  /** Median ms from the first step to the last. */
  total: number | null;
}

/** The shared filters' SQL under parameter names of its own (`f_pk0` → `s2_pk0`), so steps do not share values. */
function renamed(part: { sql: string; params: Params }, prefix: string): { sql: string; params: Params } {
  return {
    sql: part.sql.replace(/\{f_(\w+):/g, `{${prefix}_$1:`),
    params: Object.fromEntries(Object.entries(part.params).map(([k, v]) => [k.replace(/^f_/, `${prefix}_`), v])),
  };
}

/** The condition an event meets to count as step `i`, with its parameters. */
function stepCondition(step: FunnelStep, i: number): { sql: string; params: Params } {
  const column = step.match === "type" ? "type" : "event";
  const props = renamed(filtersSql({ platform: "", country: "", release: "", props: step.props }), `s${i}`);
  return { sql: `(${column} = {s${i}_name:String}${props.sql})`, params: { [`s${i}_name`]: step.name, ...props.params } };
}

/** The fold's state before any event: (stopped, timestamps of the attempt at step 1, …, at step n). */
const startState = (n: number): string => `(toUInt8(0), ${Array.from({ length: n }, () => "CAST([] AS Array(UInt64))").join(", ")})`;

/** The fold's state after the events of `sorted` (step events encoded and sorted as peopleSql makes them). */
function foldSql(n: number, strict: boolean, sorted: string): string {
  const ts = "intDiv(x, 16)";
  const k = "(x % 16)";
  const at = (step: number): string => `acc.${step + 2}`;
  const extends_ = (step: number): string => `(${k} = ${step} AND notEmpty(${at(step - 1)}) AND ${ts} <= ${at(step - 1)}[1] + {fn_window:UInt64})`;
  const next: string[] = [`if(${k} = 0, [${ts}], ${at(0)})`];
  for (let s = 1; s < n; s++) next.push(`if(${extends_(s)}, arrayPushBack(${at(s - 1)}, ${ts}), ${at(s)})`);
  const stops = [extends_(n - 1)];
  if (strict) for (let s = 1; s < n; s++) stops.push(`(${k} = ${s} AND notEmpty(${at(0)}) AND empty(${at(s - 1)}))`);
  return `arrayFold((acc, x) -> if(acc.1 = 1, acc, (toUInt8(${stops.join(" OR ")}), ${next.join(", ")})), ${sorted}, ${startState(n)})`;
}

/**
 * One row per person who did any step in the range: `person`, `level` (the last step reached,
 * 0 when step 1 never came), `chain` (that attempt's step timestamps, ms) and, with a
 * breakdown, `b` (the value on their first step-1 event). `person` is the person key when
 * `named`, else a hash that only counts (person.ts).
 */
function peopleSql(def: FunnelsDef, named: boolean): { sql: string; params: Params } {
  const n = def.steps.length;
  const steps = def.steps.map(stepCondition);
  const filters = filtersSql(def.filters);
  const b = def.breakdown.kind === "none" ? null : breakdownSql(def.breakdown, "fn_bkey");
  const params: Params = { ...rangeParams(def.range), fn_window: windowMs(def.window), ...filters.params, ...b?.params };
  for (const s of steps) Object.assign(params, s.params);
  const entries = steps.map((s, i) => `if(${s.sql}, toUInt64(toUnixTimestamp64Milli(timestamp)) * 16 + ${i}, 0)`).join(", ");
  const state = foldSql(n, def.order === "strict", "arraySort(groupArrayArray(steps))");
  const first = steps[0]?.sql ?? "0";
  const reached = Array.from({ length: n }, (_, s) => `f.${s + 2}`);
  const second = steps[1]?.sql ?? "0";
  const sql = `SELECT person, if(n2 > 0, ${reached.map((r) => `notEmpty(${r})`).join(" + ")}, toUInt8(n1 > 0)) AS level,
         multiIf(${reached
           .slice(1)
           .reverse()
           .map((r) => `notEmpty(${r}), ${r}`)
           .join(", ")}, f.2) AS chain${b ? ", b" : ""}
    FROM (
      SELECT person, sum(ids_n1) AS n1, sum(ids_n2) AS n2, if(n2 > 0, ${state}, ${startState(n)}) AS f${b ? ", argMinIf(b, b_at, has_first) AS b" : ""}
      FROM (
        SELECT ${named ? joinedPersonKey("ids") : hashedPerson("ids")} AS person, ids.steps AS steps, ids.n1 AS ids_n1, ids.n2 AS ids_n2${b ? ", ids.b AS b, ids.b_at AS b_at, ids.has_first AS has_first" : ""}
        FROM (
          SELECT ${named ? "user_id, anonymous_id" : `${idHash("user_id")} AS user_h, ${idHash("anonymous_id")} AS anon_h`}, groupArrayArray(arrayFilter(v -> v > 0, [${entries}])) AS steps,
                 countIf(${first}) AS n1, countIf(${second}) AS n2
                 ${b ? `, argMinIf(${b.sql}, timestamp, ${first}) AS b, minIf(timestamp, ${first}) AS b_at, n1 > 0 AS has_first` : ""}
          FROM events
          WHERE ${appRange()} AND ${hasPerson()} AND (${steps.map((s) => s.sql).join(" OR ")})${filters.sql}
          GROUP BY ${named ? "user_id, anonymous_id" : "user_h, anon_h"}
        ) AS ids
       ${named ? identityJoin("ids") : identityHashJoin("ids", true)}
      )
      GROUP BY person
    )`;
  return { sql, params };
}

/**
 * The funnel's figures: one row per breakdown bucket (the `top` busiest values, then "other")
 * and the total row. Without a breakdown every person is in the bucket "".
 */
export function funnelSql(def: FunnelsDef, top: number): { sql: string; params: Params } {
  const n = def.steps.length;
  const people = peopleSql(def, false);
  const counts = Array.from({ length: n }, (_, s) => `countIf(level >= ${s + 1})`).join(", ");
  const gaps = Array.from({ length: n - 1 }, (_, s) => `quantileExactInclusiveIfState(0.5)(toFloat64(chain[${s + 2}] - chain[${s + 1}]), level >= ${s + 2}) AS m${s}`);
  const total = `quantileExactInclusiveIfState(0.5)(toFloat64(chain[${n}] - chain[1]), level = ${n}) AS mt`;
  const merged = Array.from({ length: n - 1 }, (_, s) => `quantileExactInclusiveIfMerge(0.5)(m${s})`).join(", ");
  const sql = `SELECT bucket, other, toUInt8(grouping(bucket, other) = 3) AS total_row, sumForEach(people) AS people,
           [${merged}] AS medians, quantileExactInclusiveIfMerge(0.5)(mt) AS total
    FROM (
      SELECT if(rank <= {fn_top:UInt32}, b, '') AS bucket, toUInt8(rank > {fn_top:UInt32}) AS other, people, ${Array.from({ length: n - 1 }, (_, s) => `m${s}`).join(", ")}, mt
      FROM (
        SELECT b, [${counts}] AS people, ${gaps.join(", ")}, ${total},
               row_number() OVER (ORDER BY people[1] DESC, b) AS rank
        FROM (SELECT ${def.breakdown.kind === "none" ? "'' AS b" : "b"}, level, chain FROM (${people.sql}) WHERE level >= 1)
        GROUP BY b
      )
    )
    GROUP BY GROUPING SETS ((bucket, other), ())`;
  return { sql, params: { ...people.params, fn_top: top } };
}

/** Person keys of those whose last step reached is `level` (and, given, whose breakdown value is `value`), at most `cap`. */
export function funnelPeopleSql(def: FunnelsDef, level: number, cap: number, value: string | null = null): { sql: string; params: Params } {
  const people = peopleSql(def, true);
  const narrow = value !== null && def.breakdown.kind !== "none";
  return {
    sql: `SELECT person FROM (${people.sql}) WHERE level = {fn_level:UInt32}${narrow ? " AND b = {fn_value:String}" : ""} ORDER BY person LIMIT {fn_cap:UInt32}`,
    params: { ...people.params, fn_level: level, fn_cap: cap, ...(narrow ? { fn_value: value } : {}) },
  };
}
