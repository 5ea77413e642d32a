// The definition parts every insight shares, under the same URL names everywhere: the range,
// the filters (`platform`, `country`, `release`, `prop=key:value`, repeatable) and the time
// zone (`tz`) that day, week and month buckets follow. Filters reach ClickHouse only as query
// parameters; their names start with `f_` so they never collide with an insight's own.
import type { Params } from "../queries/clickhouse.server";
import { customDays, DEFAULT_RANGE, parseRange, RANGES, utcDay, writeRange, type RangeKey, type TimeRange } from "../queries/range";
import { zoneDayStart } from "./calendar";

export interface PropFilter {
  key: string;
  value: string;
}

export interface InsightFilters {
  platform: string;
  country: string;
  /** The app version (`app_version`). */
  release: string;
  props: PropFilter[];
}

export const MAX_PROPS = 10;
const MAX_VALUE = 200;

export const NO_FILTERS: InsightFilters = { platform: "", country: "", release: "", props: [] };

export const hasFilters = (f: InsightFilters): boolean => f.platform !== "" || f.country !== "" || f.release !== "" || f.props.length > 0;

/** The filters the URL sets; a malformed `prop` is left out and named in `problems`. */
export function parseFilters(url: URL, problems: string[]): InsightFilters {
  const get = (name: string): string => (url.searchParams.get(name) ?? "").trim().slice(0, MAX_VALUE);
  const props: PropFilter[] = [];
  for (const raw of url.searchParams.getAll("prop")) {
    // A form's blank property field is no filter.
    if (raw.trim() === "") continue;
    const at = raw.indexOf(":");
    const key = at > 0 ? raw.slice(0, at).trim() : "";
    if (!key) {
      problems.push(`The property filter "${raw.slice(0, 60)}" is not key:value; it was ignored.`);
      continue;
    }
    if (props.length === MAX_PROPS) {
      problems.push(`At most ${MAX_PROPS} property filters apply; the rest were ignored.`);
      break;
    }
    props.push({ key: key.slice(0, MAX_VALUE), value: raw.slice(at + 1).trim().slice(0, MAX_VALUE) });
  }
  return { platform: get("platform"), country: get("country"), release: get("release"), props };
}

/** ` AND platform = {f_platform:String}…` over raw `events` columns, for the filters that are set. */
export function filtersSql(f: InsightFilters): { sql: string; params: Params } {
  let sql = "";
  const params: Params = {};
  const column = { platform: "platform", country: "country", release: "app_version" } as const;
  for (const name of ["platform", "country", "release"] as const) {
    if (!f[name]) continue;
    sql += ` AND ${column[name]} = {f_${name}:String}`;
    params[`f_${name}`] = f[name];
  }
  f.props.forEach((p, i) => {
    // A property sent as a number or boolean matches its text, as the URL writes it.
    sql += ` AND JSONExtractRaw(properties, {f_pk${i}:String}) IN ({f_pv${i}:String}, {f_pq${i}:String})`;
    params[`f_pk${i}`] = p.key;
    params[`f_pv${i}`] = p.value;
    params[`f_pq${i}`] = JSON.stringify(p.value);
  });
  return { sql, params };
}

/** Writes the filters into `q` under their URL names. */
export function writeFilters(q: URLSearchParams, f: InsightFilters): void {
  if (f.platform) q.set("platform", f.platform);
  if (f.country) q.set("country", f.country);
  if (f.release) q.set("release", f.release);
  for (const p of f.props) q.append("prop", `${p.key}:${p.value}`);
}

/** `platform ios · prop plan:pro`: the filters in words, "" when none. */
export function filtersText(f: InsightFilters): string {
  const parts = [f.platform && `platform ${f.platform}`, f.country && `country ${f.country}`, f.release && `release ${f.release}`, ...f.props.map((p) => `${p.key} = ${p.value}`)];
  return parts.filter(Boolean).join(" · ");
}

export const DEFAULT_TZ = "UTC";
let zones: ReadonlySet<string> | null = null;

/** Whether ClickHouse and the browser both know the zone: one of the IANA names. */
export function isTimeZone(tz: string): boolean {
  zones ??= new Set(["UTC", ...Intl.supportedValuesOf("timeZone")]);
  return zones.has(tz);
}

/** The `tz` the URL asks for, else UTC (an unknown name is named in `problems`). */
export function parseTz(url: URL, problems: string[]): string {
  const raw = (url.searchParams.get("tz") ?? "").trim();
  if (!raw) return DEFAULT_TZ;
  if (isTimeZone(raw)) return raw;
  problems.push(`"${raw.slice(0, 60)}" is not a time zone; UTC was used.`);
  return DEFAULT_TZ;
}

/**
 * The range the URL asks for (`range=7d`, ending at `now`, or `range=custom&from=…&to=…`: whole
 * days in the insight's time zone, `tz`, both included); what cannot be used is named in `problems`.
 */
export function parseInsightRange(url: URL, problems: string[], now: number): TimeRange {
  const raw = url.searchParams.get("range");
  const days = customDays(url, now);
  if (days && "problem" in days) problems.push(`${days.problem} The last ${DEFAULT_RANGE} were used.`);
  else if (raw !== null && raw !== "custom" && !Object.hasOwn(RANGES, raw)) problems.push(`"${raw.slice(0, 20)}" is not a range; the last ${DEFAULT_RANGE} were used.`);
  const range = parseRange(url, now);
  const tz = (url.searchParams.get("tz") ?? "").trim();
  if (!range.days || !tz || tz === DEFAULT_TZ || !isTimeZone(tz)) return range;
  const from = zoneDayStart(range.days.from, tz);
  const to = zoneDayStart(new Date(((utcDay(range.days.to) ?? 0) + 86_400) * 1000).toISOString().slice(0, 10), tz);
  return { ...range, from, to };
}

export { writeRange };
export type { RangeKey, TimeRange };
