// What the attribution pages and their CSV read from a URL: the range, which of the app's
// conversions, and the currency revenue is summed in.
import type { AttributionSettings, Conversion } from "../../../schemas";
import { parseRange, type TimeRange } from "../queries/range";

export interface AttributionQuery {
  range: TimeRange;
  conversion: Conversion;
  /** The currency asked for, or the conversion's own ("" when it names none). */
  currency: string;
  /** What the URL asked for that does not exist, in words. */
  problems: string[];
}

export function parseAttributionQuery(url: URL, settings: AttributionSettings, now = Date.now()): AttributionQuery {
  const problems: string[] = [];
  const asked = url.searchParams.get("conversion") ?? "";
  const found = settings.conversions.find((c) => c.id === asked);
  if (asked !== "" && !found) problems.push(`There is no conversion "${asked.slice(0, 40)}"; ${settings.conversions[0]?.name ?? "the first"} is shown.`);
  // The settings hold at least one conversion (the schema says so).
  const conversion = found ?? (settings.conversions[0] as Conversion);
  const rawCurrency = (url.searchParams.get("currency") ?? "").trim().toUpperCase();
  const currency = /^[A-Z]{3}$/.test(rawCurrency) ? rawCurrency : (conversion.currency ?? "");
  return { range: parseRange(url, now), conversion, currency, problems };
}
