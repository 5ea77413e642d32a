// Stickiness's definition as its URL writes it: an event (`event`, and/or `type`; neither is any
// event), the calendar period whose days are counted (`period=week|month`), and the shared
// range, filters and time zone.
import { EVENT_TYPES } from "../../../schemas/events";
import { DEFAULT_TZ, parseFilters, parseInsightRange, parseTz, writeFilters, writeRange, type InsightFilters, type TimeRange } from "./filters";

export const STICKY_PERIODS = { week: 7, month: 31 } as const;
export type StickyPeriod = keyof typeof STICKY_PERIODS;

export interface StickinessDef {
  type: string;
  event: string;
  period: StickyPeriod;
  range: TimeRange;
  filters: InsightFilters;
  tz: string;
  problems: string[];
}

/** The stickiness the URL defines; what it cannot do falls back to defaults, named in `problems`. */
export function parseStickiness(url: URL, now = Date.now()): StickinessDef {
  const problems: string[] = [];
  const q = url.searchParams;
  const range = parseInsightRange(url, problems, now);
  const rawPeriod = q.get("period");
  let period: StickyPeriod = range.to - range.from > 31 * 86_400 ? "month" : "week";
  if (rawPeriod === "week" || rawPeriod === "month") period = rawPeriod;
  else if (rawPeriod) problems.push(`"${rawPeriod.slice(0, 20)}" is not a period; ${period}s were used.`);
  let type = (q.get("type") ?? "").trim();
  if (type !== "" && !(EVENT_TYPES as readonly string[]).includes(type)) {
    problems.push(`"${type.slice(0, 40)}" is not an event type; every type counts.`);
    type = "";
  }
  return { type, event: (q.get("event") ?? "").trim().slice(0, 200), period, range, filters: parseFilters(url, problems), tz: parseTz(url, problems), problems };
}

/** The definition's query string (without `?`), canonical. */
export function toStickinessSearch(def: StickinessDef): string {
  const q = new URLSearchParams();
  writeRange(q, def.range);
  if (def.type) q.set("type", def.type);
  if (def.event) q.set("event", def.event);
  q.set("period", def.period);
  if (def.tz !== DEFAULT_TZ) q.set("tz", def.tz);
  writeFilters(q, def.filters);
  return q.toString();
}

/** `Purchase`, `page events`, `any event`. */
export const stickinessSubject = (def: Pick<StickinessDef, "type" | "event">): string => def.event || (def.type ? `${def.type} events` : "any event");
