// Attribution, computed in ClickHouse per request from the events already stored: which sources,
// media and campaigns get the credit for an app's conversions under five models side by side.
// docs/decisions/0022-attribution.md says why per request and how touchpoints are read.
//
// A touchpoint is an event that says where a person came from (schemas/touchpoints.ts): UTM
// fields in `context.campaign` (the utm_* columns), UTM or ad click ids on the page's URL (or a
// deep link's), the touchpoint events (an install attributed, an ad clicked or viewed), or a page
// reached from another site's link. Repeats within a session are one touch. Anonymous touches
// belong to the user the anonymous id became (person.ts), so they credit the user's conversions.
//
// For each conversion, the person's touches within the lookback before it: clicks within the
// click window, and impressions within the view window only when no click qualifies. Each model
// gives the touches credits that sum to exactly 1; a conversion without touches credits
// "(direct)" with 1 under every model, so each column adds up to the conversions.
import { ATTRIBUTION_MODELS, CLICK_IDS, TOUCH_EVENTS, type AttributionModel, type AttributionSettings, type Conversion } from "../../../schemas";
import type { DashboardEnv } from "../env.server";
import { hasPerson, identityHashJoin, identityJoin, joinedPersonHash, joinedPersonKey } from "../insights/person";
import { queryApp, type Params } from "../queries/clickhouse.server";
import type { TimeRange } from "../queries/range";
import { REFERRER_HOSTS } from "./referrers";

/** A channel's credits under each model, conversions and revenue, with the time from its touches to the conversions. */
export interface ChannelRow {
  source: string;
  medium: string;
  campaign: string;
  content: string;
  conversions: Record<AttributionModel, number>;
  revenue: Record<AttributionModel, number>;
  /** Touches of this channel in conversion paths. */
  touches: number;
  /** Median time from a touch of this channel to the conversion it led to, seconds; null for "(direct)". */
  medianToConvert: number | null;
}

export interface AttributionReport {
  conversion: Conversion;
  currency: string;
  /** Conversions in the range, with and without a qualifying touch. */
  conversions: number;
  touched: number;
  /** Revenue of the conversions in `currency`; conversions in other currencies count but are not summed. */
  revenue: number;
  otherCurrencies: Array<{ currency: string; conversions: number }>;
  rows: ChannelRow[];
}

export const DIRECT = { source: "(direct)", medium: "(none)" } as const;

/**
 * The events that may be touches: pages, screens and track events with a campaign, a query
 * string or a referrer, and the touchpoint events. Ordinary events are read without their
 * properties, the largest column; the touchpoint events, few and found by the table's
 * (type, event) key, with them.
 */
function candidatesSql(): string {
  const touchEvents = "{a_deep:String}, {a_install:String}, {a_adclick:String}, {a_adview:String}";
  const where = (events: string) => `
      WHERE app_id = {app:String} AND timestamp >= toDateTime64({a_touch_from:Int64}, 3, 'UTC') AND timestamp < toDateTime64({to:UInt32}, 3, 'UTC') AND ${events}
        AND ${hasPerson()}`;
  const ordinary = `
      SELECT user_id, anonymous_id, session_id, timestamp, type, event, url AS link, url, referrer, utm_source, utm_medium, utm_campaign,
             '' AS p_source, '' AS p_medium, '' AS p_name, '' AS p_content
      FROM events ${where(`type IN ('page', 'screen', 'track') AND event NOT IN (${touchEvents})`)}
        AND (utm_source != '' OR utm_campaign != '' OR position(url, '?') > 0 OR referrer != '')`;
  const campaign = (field: string) => `JSONExtractString(properties, 'campaign', '${field}')`;
  const touchpoints = `
      SELECT user_id, anonymous_id, session_id, timestamp, type, event, if(event = {a_deep:String}, JSONExtractString(properties, 'url'), url) AS link, url, referrer,
             utm_source, utm_medium, utm_campaign, ${campaign("source")} AS p_source, ${campaign("medium")} AS p_medium, ${campaign("name")} AS p_name,
             if(${campaign("content")} != '', ${campaign("content")}, ${campaign("ad_creative")}) AS p_content
      FROM events ${where(`type = 'track' AND event IN (${touchEvents})`)}`;
  return `${ordinary} UNION ALL ${touchpoints}`;
}

/**
 * The touch an event makes, if any, with its channel. A URL without a query string has no
 * parameters to parse.
 */
function touchRowsSql(): string {
  const q = (param: string) => `if(has_query, extractURLParameter(link, ${param}), '')`;
  return `
    SELECT user_id, anonymous_id, session_id, timestamp, kind, source, medium, campaign, content, origin = 'referrer' AS by_referrer FROM (
      SELECT user_id, anonymous_id, session_id, timestamp,
             position(link, '?') > 0 AS has_query,
             if(has_query, multiIf(${CLICK_IDS.map((_, i) => `extractURLParameter(link, {a_click${i}:String}) != '', {a_click${i}:String}`).join(", ")}, ''), '') AS click,
             domainWithoutWWW(referrer) AS ref_host,
             multiIf(
               utm_source != '' OR utm_campaign != '', 'ctx',
               ${q("'utm_source'")} != '' OR ${q("'utm_campaign'")} != '', 'url',
               p_source != '' OR p_name != '', 'event',
               click != '', 'click',
               type = 'page' AND ref_host != '' AND ref_host != domainWithoutWWW(url), 'referrer',
               '') AS origin,
             multiIf(origin = 'ctx', toString(utm_source), origin = 'url', ${q("'utm_source'")}, origin = 'event', p_source,
                     origin = 'click', transform(click, {a_clicks:Array(String)}, {a_click_sources:Array(String)}, ''), ref_host) AS source,
             multiIf(origin = 'ctx', toString(utm_medium), origin = 'url', ${q("'utm_medium'")}, origin = 'event', p_medium,
                     origin = 'click', transform(click, {a_clicks:Array(String)}, {a_click_media:Array(String)}, ''), '') AS medium,
             multiIf(origin = 'ctx', toString(utm_campaign), origin = 'url', ${q("'utm_campaign'")}, origin = 'event', p_name, '') AS campaign,
             multiIf(origin IN ('ctx', 'url'), ${q("'utm_content'")}, origin = 'event', p_content, '') AS content,
             if(event = {a_adview:String}, 'view', 'click') AS kind
      FROM (${candidatesSql()}))
    WHERE origin != ''`;
}

/**
 * Each person's touches, oldest first, as (epoch ms, is a view, source, medium, campaign, content):
 * one per session and channel, at its first time. A link from another site counts only in a
 * session without a campaign or click of its own: a page keeps its landing's referrer while the
 * visitor moves on, so an ad's landing would otherwise count twice. A referrer's medium is
 * classified here, once per touch rather than per event: its host, else its registrable domain,
 * in the known lists.
 */
function touchesSql(converted: string): string {
  const known = (host: string) => `transform(${host}, {a_ref_hosts:Array(String)}, {a_ref_media:Array(String)}, '')`;
  const medium = `if(by_referrer, multiIf(${known("source")} != '', ${known("source")}, ${known("cutToFirstSignificantSubdomain(source)")} != '', ${known("cutToFirstSignificantSubdomain(source)")}, 'referral'), medium)`;
  return `
    SELECT person, arraySort(x -> x.1, arrayMap(t -> (t.1, t.2, t.3, t.4, t.5, t.6), arrayFilter(t -> NOT t.7 OR NOT has(campaigned, t.8), all))) AS touches FROM (
      SELECT person, groupArray((at, view, source, ${medium}, campaign, content, by_referrer, unit)) AS all, groupArrayIf(unit, NOT by_referrer) AS campaigned FROM (
        SELECT any(e_person) AS person, any(e_unit) AS unit, toUnixTimestamp64Milli(min(e_at)) AS at, any(e_kind) = 'view' AS view, any(e_source) AS source,
               any(e_medium) AS medium, any(e_campaign) AS campaign, max(e_content) AS content, any(e_referrer) AS by_referrer
        FROM (
          SELECT ${joinedPersonHash("t")} AS e_person, if(t.session_id != '', cityHash64(t.session_id), toUInt64(toUnixTimestamp64Milli(t.timestamp))) AS e_unit,
                 t.timestamp AS e_at, t.kind AS e_kind, t.source AS e_source, t.medium AS e_medium, t.campaign AS e_campaign, t.content AS e_content, t.by_referrer AS e_referrer
          FROM (${touchRowsSql()}) AS t${identityHashJoin("t")})
        WHERE e_person != 0 AND e_person IN (${converted})
        -- One key of 64 bits groups several times faster than the seven columns it stands for.
        GROUP BY cityHash64(e_person, e_unit, e_kind, e_source, e_medium, e_campaign, e_referrer))
      GROUP BY person)`;
}

/**
 * The conversion events in the range with their revenue and currency; a `once` conversion keeps
 * each person's first ever. `person` is a hash that only counts, or the person's key when `named`.
 */
function conversionsSql(c: Conversion, named = false): { sql: string; params: Params } {
  const params: Params = { a_event: c.event, a_rev: c.revenueProp ?? "", a_cur: c.currencyProp ?? "", a_cur_default: c.currency ?? "" };
  let where = "type = 'track' AND event = {a_event:String}";
  if (c.where) {
    // A property equals the value as a string or as the JSON it was sent as (a number, a boolean).
    where += " AND JSONExtractRaw(properties, {a_wk:String}) IN ({a_wv:String}, {a_wq:String})";
    params.a_wk = c.where.prop;
    params.a_wv = c.where.equals;
    params.a_wq = JSON.stringify(c.where.equals);
  }
  const revenue = "if({a_rev:String} = '', 0, if(JSONType(properties, {a_rev:String}) = 'String', toFloat64OrZero(JSONExtractString(properties, {a_rev:String})), JSONExtractFloat(properties, {a_rev:String})))";
  const currency = "upper(if({a_cur:String} != '' AND JSONExtractString(properties, {a_cur:String}) != '', JSONExtractString(properties, {a_cur:String}), {a_cur_default:String}))";
  const lower = c.once ? "" : " AND timestamp >= toDateTime64({from:UInt32}, 3, 'UTC')";
  const rows = `
    SELECT ${named ? joinedPersonKey("c") : joinedPersonHash("c")} AS person, toUnixTimestamp64Milli(c.timestamp) AS at, c.revenue AS revenue, c.currency AS currency FROM (
      SELECT user_id, anonymous_id, timestamp, ${revenue} AS revenue, ${currency} AS currency FROM events
      WHERE app_id = {app:String}${lower} AND timestamp < toDateTime64({to:UInt32}, 3, 'UTC') AND ${where}) AS c${named ? identityJoin("c") : identityHashJoin("c")}`;
  const someone = named ? "person != ''" : "person != 0";
  const sql = c.once
    ? `SELECT person, first.1 AS at, first.2 AS revenue, first.3 AS currency FROM (SELECT person, argMin((at, revenue, currency), at) AS first FROM (${rows}) WHERE ${someone} GROUP BY person)
       WHERE at >= {from:UInt32} * 1000`
    : `SELECT person, at, revenue, currency FROM (${rows}) WHERE ${someone}`;
  return { sql, params };
}

/**
 * Per conversion, its credited touches as tuples (source, medium, campaign, content, first, last,
 * linear, decay, position, seconds before the conversion), "(direct)" when none qualifies.
 */
function creditedSql(conversions: string): string {
  const inWindow = (view: boolean) => `arrayFilter(t -> t.1 <= c.at AND t.1 > c.at - {a_${view ? "view" : "click"}_ms:Int64} AND ${view ? "" : "NOT "}t.2, tp.touches)`;
  const decay = "arrayMap(t -> exp2(-(c.at - t.1) / {a_half_ms:Float64}), path)";
  return `
    SELECT c.person AS person, c.at AS at, c.revenue AS revenue, c.currency AS currency,
           ${inWindow(false)} AS clicks, ${inWindow(true)} AS views,
           if(notEmpty(clicks), clicks, views) AS path, length(path) AS n, ${decay} AS weights,
           if(n = 0, [('${DIRECT.source}', '${DIRECT.medium}', '', '', 1., 1., 1., 1., 1., -1.)],
              arrayMap((t, i, w) -> (t.3, t.4, t.5, t.6, toFloat64(i = 1), toFloat64(i = n), 1 / n, w / arraySum(weights),
                                     multiIf(n = 1, 1., n = 2, 0.5, i = 1 OR i = n, 0.4, 0.2 / (n - 2)), (c.at - t.1) / 1000),
                       path, arrayEnumerate(path), weights)) AS credited
    FROM (${conversions}) AS c LEFT JOIN (${touchesSql(`SELECT person FROM (${conversions})`)}) AS tp ON tp.person = c.person`;
}

function params(settings: AttributionSettings, range: Pick<TimeRange, "from" | "to">): Params {
  const clickMs = settings.clickWindowDays * 86_400_000;
  const viewMs = settings.viewWindowHours * 3_600_000;
  return {
    from: range.from,
    to: range.to,
    a_touch_from: range.from - Math.ceil(Math.max(clickMs, viewMs) / 1000),
    a_click_ms: clickMs,
    a_view_ms: viewMs,
    a_half_ms: settings.halfLifeDays * 86_400_000,
    ...Object.fromEntries(CLICK_IDS.map((c, i) => [`a_click${i}`, c.param])),
    a_clicks: CLICK_IDS.map((c) => c.param),
    a_click_sources: CLICK_IDS.map((c) => c.source),
    a_click_media: CLICK_IDS.map((c) => c.medium),
    a_deep: TOUCH_EVENTS.deepLinkOpened,
    a_install: TOUCH_EVENTS.installAttributed,
    a_adclick: TOUCH_EVENTS.adClicked,
    a_adview: TOUCH_EVENTS.adViewed,
    a_ref_hosts: REFERRER_MEDIA.hosts,
    a_ref_media: REFERRER_MEDIA.media,
  };
}

// The referrer lists as one host → medium map for transform().
const REFERRER_MEDIA = (() => {
  const hosts: string[] = [];
  const media: string[] = [];
  for (const medium of ["search", "social", "email"] as const) {
    for (const host of REFERRER_HOSTS[medium]) {
      hosts.push(host);
      media.push(medium);
    }
  }
  return { hosts, media };
})();

interface RawRow {
  source: string;
  medium: string;
  campaign: string;
  content: string;
  credits: number[];
  revenue: number[];
  touches: number;
  median: number | null;
}

/** The report for one conversion of the app over `range`, revenue in `currency` (the conversion's own when omitted). */
export async function attributionReport(
  cfg: DashboardEnv["clickhouse"],
  appId: string,
  settings: AttributionSettings,
  conversion: Conversion,
  range: Pick<TimeRange, "from" | "to">,
  currency?: string,
): Promise<AttributionReport> {
  const conv = conversionsSql(conversion);
  const cur = (currency ?? conversion.currency ?? "").toUpperCase();
  const credited = creditedSql(conv.sql);
  // Totals come from the same rows: a conversion's first-touch credits add up to 1 over its
  // channels, so their sums count conversions (per currency) and revenue.
  const rows = await queryApp<RawRow & { currencies: [string[], number[]] }>(
    cfg,
    appId,
    `SELECT x.1 AS source, x.2 AS medium, x.3 AS campaign, x.4 AS content,
            [${ATTRIBUTION_MODELS.map((_, i) => `sum(x.${i + 5})`).join(", ")}] AS credits,
            [${ATTRIBUTION_MODELS.map((_, i) => `sumIf(x.${i + 5} * revenue, currency = {a_currency:String})`).join(", ")}] AS revenue,
            countIf(x.10 >= 0) AS touches, if(touches = 0, NULL, quantileExactIf(0.5)(x.10, x.10 >= 0)) AS median,
            sumMap([currency], [x.5]) AS currencies
     FROM (${credited}) ARRAY JOIN credited AS x
     GROUP BY source, medium, campaign, content
     ORDER BY credits[3] DESC, source, medium, campaign, content`,
    { ...params(settings, range), ...conv.params, a_currency: cur },
  );
  const perCurrency = new Map<string, number>();
  for (const r of rows) r.currencies[0].forEach((c, i) => perCurrency.set(c, (perCurrency.get(c) ?? 0) + Number(r.currencies[1][i] ?? 0)));
  const conversions = Math.round([...perCurrency.values()].reduce((n, v) => n + v, 0));
  const direct = rows.find((r) => r.source === DIRECT.source && r.medium === DIRECT.medium);
  return {
    conversion,
    currency: cur,
    conversions,
    touched: conversions - Math.round(Number(direct?.credits[0] ?? 0)),
    revenue: rows.reduce((n, r) => n + Number(r.revenue[0] ?? 0), 0),
    otherCurrencies: [...perCurrency]
      .filter(([c]) => c !== cur)
      .map(([c, n]) => ({ currency: c === "" ? "(none)" : c, conversions: Math.round(n) }))
      .sort((x, y) => y.conversions - x.conversions || (x.currency < y.currency ? -1 : 1)),
    rows: rows.map((r) => ({
      source: r.source,
      medium: r.medium,
      campaign: r.campaign,
      content: r.content,
      conversions: byModel(r.credits),
      revenue: byModel(r.revenue),
      touches: Number(r.touches),
      medianToConvert: r.median === null ? null : Number(r.median),
    })),
  };
}

const byModel = (values: readonly number[]): Record<AttributionModel, number> =>
  Object.fromEntries(ATTRIBUTION_MODELS.map((m, i) => [m, Number(values[i] ?? 0)])) as Record<AttributionModel, number>;

/** One conversion of a person and the touches behind it, each with its credit under every model. */
export interface ConversionPath {
  at: number;
  revenue: number;
  currency: string;
  touches: Array<{ at: number | null; view: boolean; source: string; medium: string; campaign: string; content: string; credits: Record<AttributionModel, number> }>;
}

/** The conversions of one person (the users view's key) in the range, newest first, with their touch paths. */
export async function personPaths(
  cfg: DashboardEnv["clickhouse"],
  appId: string,
  settings: AttributionSettings,
  conversion: Conversion,
  range: Pick<TimeRange, "from" | "to">,
  personKey: string,
  limit = 20,
): Promise<ConversionPath[]> {
  const conv = conversionsSql(conversion);
  const credited = creditedSql(`SELECT * FROM (${conv.sql}) WHERE person = cityHash64({a_person:String})`);
  const rows = await queryApp<{ at: number; revenue: number; currency: string; path: Array<[number, boolean]>; credited: Array<[string, string, string, string, number, number, number, number, number, number]> }>(
    cfg,
    appId,
    `SELECT at, revenue, currency, arrayMap(t -> (t.1, t.2), path) AS path, credited FROM (${credited}) ORDER BY at DESC LIMIT {a_limit:UInt32}`,
    { ...params(settings, range), ...conv.params, a_person: personKey, a_limit: limit },
  );
  return rows.map((r) => ({
    at: Number(r.at),
    revenue: Number(r.revenue),
    currency: r.currency,
    touches: r.credited.map((c, i) => {
      const touch = r.path[i];
      return {
        at: touch ? Number(touch[0]) : null,
        view: touch ? Boolean(touch[1]) : false,
        source: c[0],
        medium: c[1],
        campaign: c[2],
        content: c[3],
        credits: byModel([c[4], c[5], c[6], c[7], c[8]]),
      };
    }),
  }));
}

/** The latest conversions in the range with who made them (the users view's key), to open their touch paths. */
export async function recentConversions(
  cfg: DashboardEnv["clickhouse"],
  appId: string,
  conversion: Conversion,
  range: Pick<TimeRange, "from" | "to">,
  limit = 10,
): Promise<Array<{ person: string; at: number; revenue: number; currency: string }>> {
  const conv = conversionsSql(conversion, true);
  const rows = await queryApp<{ person: string; at: number; revenue: number; currency: string }>(
    cfg,
    appId,
    `SELECT person, at, revenue, currency FROM (${conv.sql}) ORDER BY at DESC, person LIMIT {a_limit:UInt32}`,
    { from: range.from, to: range.to, ...conv.params, a_limit: limit },
  );
  return rows.map((r) => ({ person: r.person, at: Number(r.at), revenue: Number(r.revenue), currency: r.currency }));
}
