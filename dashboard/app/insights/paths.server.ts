// Paths: what people do after a chosen start (or before a chosen end), step by step, within a
// session or within bursts of activity separated by a gap. Steps are pages (by their path
// template, `/orders/:id`, as the performance views group them), screens or track events; a step repeated in a row counts once. Each person
// contributes one path, their first in the range that has the start (or the end), so the counts
// are people and every column of the chart adds up.
//
// One scan: the range's events of the step type, grouped per person into time-ordered arrays,
// split into sequences, collapsed and cut in ClickHouse; the per-path counts then fan out into
// the ranked paths, the nodes of each column and the links between columns.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "../queries/clickhouse.server";
import { appRange, rangeParams } from "../queries/scope";
import { filtersSql, parseFilters, parseInsightRange, writeFilters, writeRange, type InsightFilters, type TimeRange } from "./filters";
import { hashedPerson, hasPerson, idHash, identityHashJoin, identityJoin, joinedPersonKey } from "./person";

import { DEFAULT_TOP, MAX_DEPTH, MAX_TOP, MIN_DEPTH, NODES_PER_STEP, OTHER, PATH_KINDS, type PathKind, type PathLink, type PathNode, type PathsResult, type RankedPath } from "./paths";

export { OTHER, type PathKind, type PathLink, type PathNode, type PathsResult, type RankedPath };

const DEFAULT_DEPTH = 4;
/** The longest gap the URL may ask for, minutes (a day). */
const MAX_GAP = 1440;
/**
 * Distinct paths read at most, most people first: past it, the rarest paths count in each
 * column's people (exact) and its "other", not in its named nodes and links.
 */
const PATHS_CAP = 10_000;

export interface PathsDef {
  range: TimeRange;
  kind: PathKind;
  /** The step paths begin at, or "" for the start of each sequence. */
  start: string;
  /** The step paths lead to, when there is no start; "" for none. */
  end: string;
  depth: number;
  /** Minutes of inactivity that end a sequence; 0 means sequences are sessions. */
  gap: number;
  top: number;
  filters: InsightFilters;
  problems: string[];
}

const isKind = (v: string | null): v is PathKind => v !== null && Object.hasOwn(PATH_KINDS, v);

function intParam(url: URL, name: string, min: number, max: number, fallback: number, problems: string[], what: string): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  problems.push(`${what} must be a whole number from ${min} to ${max}; ${fallback} was used.`);
  return fallback;
}

/** The paths insight the URL defines; anything unusable falls back to the default and is named in `problems`. */
export function parsePaths(url: URL, now = Date.now()): PathsDef {
  const problems: string[] = [];
  const range = parseInsightRange(url, problems, now);
  const rawKind = url.searchParams.get("kind");
  if (rawKind !== null && rawKind !== "" && !isKind(rawKind)) problems.push(`"${rawKind.slice(0, 20)}" is not a kind of step (pages, screens or events); pages were used.`);
  const step = (name: string): string => (url.searchParams.get(name) ?? "").trim().slice(0, 500);
  let end = step("end");
  const start = step("start");
  if (start && end) {
    problems.push("Paths either begin at a start or lead to an end; the end was ignored.");
    end = "";
  }
  return {
    range,
    kind: isKind(rawKind) ? rawKind : "pages",
    start,
    end,
    depth: intParam(url, "depth", MIN_DEPTH, MAX_DEPTH, DEFAULT_DEPTH, problems, "The depth"),
    gap: intParam(url, "gap", 0, MAX_GAP, 0, problems, "The gap (minutes)"),
    top: intParam(url, "top", 1, MAX_TOP, DEFAULT_TOP, problems, "The number of paths"),
    filters: parseFilters(url, problems),
    problems,
  };
}

/** The query string of `def`: `parsePaths` of it gives the same definition. */
export function toPathsSearch(def: PathsDef): string {
  const q = new URLSearchParams();
  writeRange(q, def.range);
  q.set("kind", def.kind);
  if (def.start) q.set("start", def.start);
  if (def.end) q.set("end", def.end);
  q.set("depth", String(def.depth));
  if (def.gap > 0) q.set("gap", String(def.gap));
  if (def.top !== DEFAULT_TOP) q.set("top", String(def.top));
  writeFilters(q, def.filters);
  return q.toString();
}

/** A step's label: the event's name, or the page's or screen's path template, else its path. */
const STEP_LABEL = "multiIf({pp_kind:String} = 'events', toString(event), {pp_kind:String} = 'pages' AND path_template != '', path_template, path)";

/**
 * `person` and `path` for each person with a path: their first sequence in the range holding the
 * start (or the end), collapsed, cut to the depth. `person` is the person key when `named`, else
 * a hash that only counts (person.ts). `path` is the steps as 64-bit hashes of their labels
 * (Array(UInt64)): a session's events are sorted, compared and copied as integers, which runs in
 * half the time strings take; `stepLabels` names them back once the paths are counted.
 */
function personPathsSql(def: PathsDef, named: boolean): { sql: string; params: Params } {
  const f = filtersSql(def.filters);
  // Each element is compared with the one before through a shifted copy of the array: a lambda
  // that indexed the array itself would copy it once per element.
  // Sequence breaks within a unit (a session, or a device's events): a pause longer than the gap.
  const breaks = "arrayMap((t, before) -> dateDiff('second', before, t) > {pp_gap:UInt32} * 60, ts, arrayPushFront(arrayPopBack(ts), ts[1]))";
  const collapse = "arrayFilter((x, before) -> x != before, raw, arrayPushFront(arrayPopBack(raw), 0))";
  const cut = `multiIf(
      {pp_start:String} != '', if(has(seq, cityHash64({pp_start:String})), arraySlice(seq, indexOf(seq, cityHash64({pp_start:String})), {pp_depth:UInt8}), []),
      {pp_end:String} != '', if(has(seq, cityHash64({pp_end:String})), arraySlice(seq, greatest(1, toInt64(indexOf(seq, cityHash64({pp_end:String}))) - {pp_depth:UInt8} + 1), least(indexOf(seq, cityHash64({pp_end:String})), {pp_depth:UInt8})), []),
      arraySlice(seq, 1, {pp_depth:UInt8}))`;
  // Sequences are cut per session (or per device: anonymous id, else user id, for gaps), whose
  // events are one person's, named by the user id the session reached if any; then the identity
  // map is joined once per unit, and each person keeps their first path.
  const unit = def.gap > 0 ? "if(anonymous_id != '', anonymous_id, user_id)" : "session_id";
  // Without a gap a unit is one sequence: nothing to split.
  const seqs = def.gap > 0 ? `arraySplit((x, b) -> b, arrayMap(x -> x.2, evs), ${breaks})` : "[arrayMap(x -> x.2, evs)]";
  const starts = def.gap > 0 ? `arrayConcat([ts[1]], arrayFilter((t, b) -> b, ts, ${breaks}))` : "[ts[1]]";
  // A unit's ids as the person's key needs them (named) or as hashes, the largest of which is the
  // non-empty one, as the largest string is when counting.
  const ids = named ? "max(user_id) AS uid, max(anonymous_id) AS aid" : `max(${idHash("user_id")}) AS user_h, max(${idHash("anonymous_id")}) AS anon_h`;
  const units = `
        SELECT ${ids},
               arraySort(groupArray((timestamp, step))) AS evs,
               arrayMap(x -> x.1, evs) AS ts,
               ${seqs} AS seqs,
               ${starts} AS starts,
               arrayMap(seq -> ${cut}, arrayMap(raw -> ${collapse}, seqs)) AS cuts,
               arrayFirstIndex(p -> notEmpty(p), cuts) AS found,
               cuts[found] AS unit_path, starts[found] AS unit_at
        FROM (
          SELECT user_id, anonymous_id, timestamp, session_id, cityHash64(${STEP_LABEL}) AS step FROM events
          WHERE ${appRange()} AND type = {pp_type:String} AND ${hasPerson()} AND ({pp_gap:UInt32} > 0 OR session_id != '') AND ${STEP_LABEL} != ''${f.sql}
        )
        GROUP BY cityHash64(${unit})
        HAVING found > 0`;
  const sql = named
    ? `SELECT person, argMin(unit_path, unit_at) AS path FROM (
      SELECT ${joinedPersonKey("ids")} AS person, ids.unit_path AS unit_path, ids.unit_at AS unit_at
      FROM (SELECT uid AS user_id, aid AS anonymous_id, unit_path, unit_at FROM (${units})) AS ids${identityJoin("ids")})
    GROUP BY person`
    : `SELECT person, argMin(unit_path, unit_at) AS path FROM (
      SELECT ${hashedPerson("ids")} AS person, ids.unit_path AS unit_path, ids.unit_at AS unit_at FROM (${units}) AS ids${identityHashJoin("ids", true)})
    GROUP BY person`;
  const type = def.kind === "pages" ? "page" : def.kind === "screens" ? "screen" : "track";
  return {
    sql,
    params: { ...rangeParams(def.range), ...f.params, pp_gap: def.gap, pp_start: def.start, pp_end: def.end, pp_depth: def.depth, pp_kind: def.kind, pp_type: type },
  };
}

/**
 * The labels of the range's steps by their hashes, as two aligned arrays (a scalar subquery read
 * once per query): paths are counted on hashes and named only at the end.
 */
function stepLabels(): string {
  return `(SELECT (groupArray(h), groupArray(label)) FROM (
    SELECT cityHash64(${STEP_LABEL}) AS h, any(${STEP_LABEL}) AS label FROM events
    WHERE ${appRange()} AND type = {pp_type:String} AND ${STEP_LABEL} != '' GROUP BY h))`;
}

interface FanRow {
  kind: number;
  step: number;
  label: string;
  next: string;
  steps: string[];
  people: number;
}

/** Runs the paths insight for `appId`. */
export async function runPaths(cfg: DashboardEnv["clickhouse"], appId: string, def: PathsDef): Promise<PathsResult> {
  const p = personPathsSql(def, false);
  // The distinct paths, most people first, up to a cap, with the exact totals beside them: the
  // people on paths at least j steps long (a column's people) and how many paths there are.
  const rows = await queryApp<{ path: string[]; c: number; distinct: number; columns: number[] }>(
    cfg,
    appId,
    `WITH ${stepLabels()} AS labels
     SELECT arrayMap(h -> transform(h, labels.1, labels.2, ''), hashed) AS path, c, distinct, columns FROM (
       SELECT hashed, c, count() OVER () AS distinct,
              [${Array.from({ length: MAX_DEPTH }, (_, j) => `sum(if(length(hashed) > ${j}, c, 0)) OVER ()`).join(", ")}] AS columns
       FROM (SELECT path AS hashed, toUInt64(count()) AS c FROM (${p.sql}) GROUP BY hashed)
       ORDER BY c DESC, hashed LIMIT {cap:UInt32})
     ORDER BY c DESC, path`,
    { ...p.params, cap: PATHS_CAP },
  );
  return shape(def, fanOut(rows.map((r) => ({ path: r.path, c: Number(r.c) })), rows[0]?.columns.map(Number) ?? []), Number(rows[0]?.distinct ?? 0));
}

/** The counts the chart and ranking need: whole paths (kind 0), nodes (1), links (2) and each column's exact people (3). */
export function fanOut(paths: ReadonlyArray<{ path: string[]; c: number }>, columns: readonly number[]): FanRow[] {
  const nodes = new Map<string, FanRow>();
  const links = new Map<string, FanRow>();
  const add = (into: Map<string, FanRow>, row: FanRow): void => {
    const key = `${row.step}\u0001${row.label}\u0001${row.next}`;
    const hit = into.get(key);
    if (hit) hit.people += row.people;
    else into.set(key, row);
  };
  for (const { path, c } of paths) {
    path.forEach((label, i) => {
      add(nodes, { kind: 1, step: i + 1, label, next: "", steps: [], people: c });
      const next = path[i + 1];
      if (next !== undefined) add(links, { kind: 2, step: i + 1, label, next, steps: [], people: c });
    });
  }
  const byPeople = (a: FanRow, b: FanRow): number => a.step - b.step || b.people - a.people || (a.label < b.label ? -1 : a.label > b.label ? 1 : a.next < b.next ? -1 : a.next > b.next ? 1 : 0);
  return [
    ...paths.map((p) => ({ kind: 0, step: 0, label: "", next: "", steps: p.path, people: p.c })),
    ...[...nodes.values()].sort(byPeople),
    ...[...links.values()].sort(byPeople),
    ...columns.flatMap((people, j) => (people > 0 ? [{ kind: 3, step: j + 1, label: "", next: "", steps: [], people }] : [])),
  ];
}

/** Ranked paths, and the chart's columns folded to their top nodes, from the fanned-out counts. */
export function shape(def: Pick<PathsDef, "top" | "depth">, rows: readonly FanRow[], distinct: number): PathsResult {
  const of = (kind: number) => rows.filter((r) => r.kind === kind);
  const perStep = new Map(of(3).map((r) => [r.step, r.people]));
  const people = perStep.get(1) ?? 0;
  const all = of(0);
  const top = all.slice(0, def.top).map((r) => ({ steps: r.steps, people: r.people, share: people > 0 ? r.people / people : 0 }));
  const shown = top.reduce((n, r) => n + r.people, 0);
  const depth = Math.max(0, ...perStep.keys());

  // Each column keeps its busiest nodes; the rest fold into OTHER.
  const kept = new Map<number, Set<string>>();
  const nodes: PathNode[] = [];
  const outgoing = new Map<string, number>();
  const links = new Map<string, PathLink>();
  const fold = (step: number, label: string): string => (kept.get(step)?.has(label) ? label : OTHER);
  for (let step = 1; step <= depth; step++) {
    const column = of(1).filter((r) => r.step === step);
    const keep = column.slice(0, NODES_PER_STEP);
    kept.set(step, new Set(keep.map((r) => r.label)));
    const rest = (perStep.get(step) ?? 0) - keep.reduce((n, r) => n + r.people, 0);
    for (const r of keep) nodes.push({ step: step - 1, label: r.label, people: r.people, ended: 0 });
    if (rest > 0) nodes.push({ step: step - 1, label: OTHER, people: rest, ended: 0 });
  }
  for (const r of of(2)) {
    const from = fold(r.step, r.label);
    const to = fold(r.step + 1, r.next);
    const key = `${r.step}\u0001${from}\u0001${to}`;
    const link = links.get(key) ?? { step: r.step - 1, from, to, people: 0 };
    link.people += r.people;
    links.set(key, link);
    outgoing.set(`${r.step}\u0001${from}`, (outgoing.get(`${r.step}\u0001${from}`) ?? 0) + r.people);
  }
  // Paths beyond the query's cap are the rarest: whatever flow is unaccounted for between two
  // columns goes between their "other" nodes.
  for (let step = 1; step < depth; step++) {
    const flow = [...links.values()].filter((l) => l.step === step - 1).reduce((n, l) => n + l.people, 0);
    const missing = (perStep.get(step + 1) ?? 0) - flow;
    if (missing <= 0) continue;
    const key = `${step}\u0001${OTHER}\u0001${OTHER}`;
    const link = links.get(key) ?? { step: step - 1, from: OTHER, to: OTHER, people: 0 };
    link.people += missing;
    links.set(key, link);
    outgoing.set(`${step}\u0001${OTHER}`, (outgoing.get(`${step}\u0001${OTHER}`) ?? 0) + missing);
  }
  for (const n of nodes) n.ended = Math.max(0, n.people - (outgoing.get(`${n.step + 1}\u0001${n.label}`) ?? 0));
  return {
    people,
    depth: def.depth,
    paths: top,
    other: { people: people - shown, paths: Math.max(0, distinct - top.length) },
    nodes,
    links: [...links.values()].sort((a, b) => a.step - b.step || b.people - a.people),
  };
}

/**
 * The people on one ranked path of the insight, as a subquery of person keys (the users view's
 * `user_key`) with its parameters.
 */
export function pathPeopleSql(def: PathsDef, steps: readonly string[]): { sql: string; params: Params } {
  const p = personPathsSql(def, true);
  return { sql: `SELECT person FROM (${p.sql}) WHERE path = arrayMap(s -> cityHash64(s), {pp_steps:Array(String)})`, params: { ...p.params, pp_steps: [...steps] } };
}

/** The users view listing the people on one ranked path: `?paths=<the insight's query string>&step=…`. */
export function pathPeopleLink(appId: string, def: PathsDef, steps: readonly string[]): string {
  const q = writeRange(new URLSearchParams({ paths: toPathsSearch(def) }), def.range);
  for (const s of steps) q.append("step", s);
  return `/apps/${encodeURIComponent(appId)}/users?${q.toString()}`;
}

/** The path a users view URL asks for (`pathPeopleLink`), with its people as a subquery; null when it names none. */
export function pathPeople(url: URL, now = Date.now()): { steps: string[]; insight: string; people: { sql: string; params: Params } } | null {
  const raw = url.searchParams.get("paths");
  const steps = url.searchParams.getAll("step").slice(0, MAX_DEPTH);
  if (raw === null || steps.length === 0) return null;
  const def = parsePaths(new URL(`http://x/?${raw}`), now);
  return { steps, insight: toPathsSearch(def), people: pathPeopleSql(def, steps) };
}
