// A breakdown as every insight writes it in its URL (`breakdown=country`, or
// `breakdown=prop&breakdown_prop=plan`, with `top=`), and the value it reads from an events row.
import type { Params } from "../queries/clickhouse.server";

/** Dimensions a breakdown may use: raw `events` columns, by the names the URL gives them. */
export const BREAKDOWN_DIMS = {
  event: "event",
  type: "type",
  platform: "platform",
  country: "country",
  region: "region",
  city: "city",
  app_version: "release",
  os_name: "OS",
  browser: "browser",
  device_type: "device type",
  device_model: "device model",
  path: "path",
  locale: "locale",
  utm_source: "UTM source",
  utm_medium: "UTM medium",
  utm_campaign: "UTM campaign",
} as const;
export type BreakdownDim = keyof typeof BREAKDOWN_DIMS;

/** A breakdown: none, a dimension, or a property (`breakdown=prop&breakdown_prop=plan`). */
export type Breakdown = { kind: "none" } | { kind: "dim"; dim: BreakdownDim } | { kind: "prop"; key: string };

/** Values a breakdown shows one by one; the rest are "other". */
export const DEFAULT_TOP = 10;
export const MAX_TOP = 25;
const MAX_KEY = 200;

const isDim = (v: string): v is BreakdownDim => Object.hasOwn(BREAKDOWN_DIMS, v);

/** The URL's breakdown and how many values it shows; what cannot be used is named in `problems`. */
export function parseBreakdown(url: URL, problems: string[]): { breakdown: Breakdown; top: number } {
  const q = url.searchParams;
  let top = DEFAULT_TOP;
  const rawTop = q.get("top");
  if (rawTop !== null && rawTop !== "") {
    const n = Number(rawTop);
    if (Number.isInteger(n) && n >= 1 && n <= MAX_TOP) top = n;
    else problems.push(`A breakdown shows 1 to ${MAX_TOP} values; ${DEFAULT_TOP} were shown.`);
  }
  const raw = (q.get("breakdown") ?? "").trim();
  if (raw === "" || raw === "none") return { breakdown: { kind: "none" }, top };
  if (raw === "prop") {
    const key = (q.get("breakdown_prop") ?? "").trim().slice(0, MAX_KEY);
    if (key) return { breakdown: { kind: "prop", key }, top };
    problems.push("A breakdown by property needs the property's name; there is no breakdown.");
    return { breakdown: { kind: "none" }, top };
  }
  if (isDim(raw)) return { breakdown: { kind: "dim", dim: raw }, top };
  problems.push(`"${raw.slice(0, 40)}" is not something to break down by; there is no breakdown.`);
  return { breakdown: { kind: "none" }, top };
}

/** Writes a breakdown (and a top other than the default) back into a query string. */
export function writeBreakdown(q: URLSearchParams, b: Breakdown, top: number): void {
  if (b.kind === "dim") q.set("breakdown", b.dim);
  if (b.kind === "prop") {
    q.set("breakdown", "prop");
    q.set("breakdown_prop", b.key);
  }
  if (b.kind !== "none" && top !== DEFAULT_TOP) q.set("top", String(top));
}

/** `country`, `plan`: what a breakdown's values are. */
export function breakdownLabel(b: Breakdown): string {
  return b.kind === "dim" ? BREAKDOWN_DIMS[b.dim] : b.kind === "prop" ? b.key : "";
}

/**
 * A breakdown's value of an events row, as text ('' when it has none; a property sent as a
 * number reads as its digits), with the property's name as the parameter `param`.
 */
export function breakdownSql(b: Breakdown, param: string): { sql: string; params: Params } {
  if (b.kind === "dim") return { sql: `toString(${b.dim})`, params: {} };
  if (b.kind === "prop") {
    const key = `{${param}:String}`;
    return { sql: `if(JSONType(properties, ${key}) = 'String', JSONExtractString(properties, ${key}), JSONExtractRaw(properties, ${key}))`, params: { [param]: b.key } };
  }
  return { sql: "''", params: {} };
}
