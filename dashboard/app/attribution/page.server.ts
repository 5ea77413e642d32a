// What the attribution pages read from their URL: the range, which of the app's conversions, and
// the currency revenue is summed in; shared by the report, its CSV and a person's paths.
import type { AttributionSettings, Conversion } from "../../../schemas";
import { requireApp } from "../auth/guard.server";
import type { Permission } from "../auth/permissions";
import { getAttribution } from "../db/apps.server";
import type { DashboardEnv } from "../env.server";
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

/** The viewer, the app (404 when not theirs), its attribution settings and what the URL asks for. */
export async function attributionPage(request: Request, env: DashboardEnv, appId: string | undefined, permission: Permission) {
  const { viewer, app } = await requireApp(request, env, appId, permission);
  const settings = await getAttribution(env.db, viewer.orgId, app.id);
  if (!settings) throw new Response("No such app in your organisation", { status: 404 });
  const url = new URL(request.url);
  return { viewer, app, settings, url, q: parseAttributionQuery(url, settings) };
}
