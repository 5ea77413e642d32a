import { networkOutcome, ROW_FORMAT, type CrashRule, type Event, type EventRow } from "../../schemas";
import { isRecord, recordOf, withMember } from "../lib/json";
import { redactIp, type IpMode, type Redactor } from "../lib/redact";
import { parseUserAgent, type UserAgentInfo } from "../lib/enrich/user-agent";
import { groupCrash } from "./fingerprint";
import { correctTime, parseTime, toClickHouseTime } from "./skew";
import type { Symbolicator } from "./symbolicate";
import { templatePath } from "./url-template";

/** What the edge knows about the request that carried a batch. */
export interface RequestFacts {
  appId: string;
  receivedAt: number;
  /** `sentAt` of the batch envelope, when the client set one. */
  sentAt: number | null;
  /** Batch-level `context`, merged under each event's own. */
  context: Record<string, unknown> | undefined;
  /** The connecting client's address, from `CF-Connecting-IP`. */
  ip: string;
  userAgent: string;
  geo: { country: string; region: string; city: string };
  ipMode: IpMode;
  redactor: Redactor;
  /** The app's crash grouping rules, tried in order on each crash. */
  crashRules?: readonly CrashRule[];
  /** The app's own URL templates, tried in order before the automatic ones. */
  urlTemplates?: readonly string[];
  /** Maps crash frames with the release's source maps, when the batch's crashes have any. */
  symbolicate?: Symbolicator;
}

/** A validated, redacted, enriched event ready to be buffered. */
export interface NormalizedEvent {
  messageId: string;
  /** The event time after skew correction, in epoch milliseconds. */
  timestampMs: number;
  row: EventRow;
}

// Typed columns take at most this much of a value; the whole value stays in the JSON columns.
const MAX_COLUMN_CHARS = 4096;

const str = (v: unknown): string =>
  typeof v === "string" ? (v.length > MAX_COLUMN_CHARS ? v.slice(0, MAX_COLUMN_CHARS) : v) : typeof v === "number" && Number.isFinite(v) ? String(v) : "";

type Json = Record<string, unknown>;

// Shared by every event that lacks a field: nothing here writes to what it reads.
const EMPTY: Json = Object.freeze({});

/**
 * `obj[key]` when it is an object, else an empty one: context fields may hold anything. Only
 * read, so the empty one is shared rather than made for each absent field of each event.
 */
const sub = (obj: Json, key: string): Json => {
  const v = obj[key];
  return isRecord(v) ? v : EMPTY;
};

const NO_TEMPLATES: readonly string[] = [];

const uaCache = new Map<string, UserAgentInfo>();

// The last few user agents, compared whole: each event's is a new string from JSON.parse,
// which the map must hash in full (a user agent runs past a hundred characters) to look it up.
const recentUa: string[] = [];
const recentUaInfo: UserAgentInfo[] = [];
let recentUaNext = 0;
const RECENT_UAS = 8;

// Batches repeat one user agent hundreds of times; parse each once per isolate.
function userAgent(ua: string): UserAgentInfo {
  for (let i = 0; i < recentUa.length; i++) {
    const info = recentUaInfo[i];
    if (recentUa[i] === ua && info !== undefined) return info;
  }
  let info = uaCache.get(ua);
  if (info === undefined) {
    info = parseUserAgent(ua);
    if (uaCache.size > 1000) uaCache.clear();
    uaCache.set(ua, info);
  }
  recentUa[recentUaNext] = ua;
  recentUaInfo[recentUaNext] = info;
  recentUaNext = (recentUaNext + 1) % RECENT_UAS;
  return info;
}

function platformOf(ctx: Json, ua: UserAgentInfo): string {
  const lib = str(sub(ctx, "library").name).toLowerCase();
  if (lib.includes("react-native")) return "react-native";
  const os = (str(sub(ctx, "os").name) || ua.os).toLowerCase();
  const page = ctx.page !== undefined && ctx.page !== null;
  if (lib.includes("ios") || os === "ios" || os === "ipados") return lib.includes("web") || page ? "web" : "ios";
  if (lib.includes("android") || os === "android") return lib.includes("web") || page ? "web" : "android";
  if (lib.includes("node") || lib.includes("server")) return "node";
  if (page || (ua.browser !== "" && ua.deviceType !== "" && !ua.isBot)) return "web";
  return "";
}

function eventName(e: Event): string {
  switch (e.type) {
    case "track":
      return e.event;
    case "page":
    case "screen":
      return e.name ?? "";
    case "crash":
      return e.error.type;
    case "perf":
      return e.metric.name;
    case "network":
      return e.request.method.toUpperCase();
    default:
      return "";
  }
}

function splitUrl(raw: string): { host: string; path: string } {
  try {
    const u = new URL(raw);
    return { host: u.host, path: u.pathname };
  } catch {
    return { host: "", path: raw.replace(/[?#].*$/, "").slice(0, 2048) };
  }
}


/**
 * Turns one validated event into its ClickHouse row: corrects the clock, fills ids, merges the
 * batch context, enriches (user agent, geo, platform), applies the app's IP rule and redacts
 * before anything is kept. Every text column is read from redacted input, as the README's field
 * policy says: names (event, page, screen, crash type, metric) and free text pass the detectors,
 * ids that must stay joinable are hashed with the app's salt when they hold personal data, and
 * client-describing columns come from the redacted context and user agent.
 */
export function normalizeEvent(e: Event, facts: RequestFacts, messageId: string): NormalizedEvent {
  const { redactor } = facts;
  const before = redactor.total;
  // Hashed alike every time it holds personal data, so deduplication by it still holds.
  const storedId = redactor.id(messageId, true);

  // Only read from here on, so an event's own context is used as it is unless the batch's is
  // merged in or a claimed address is taken out.
  const own = e.context ?? EMPTY;
  const rawCtx: Json = facts.context || "ip" in own ? { ...facts.context, ...own } : own;
  const claimedIp = str(rawCtx.ip);
  if (rawCtx !== own) delete rawCtx.ip;
  let ctx = redactor.context(rawCtx);
  // The columns parsed from the user agent come from its redacted text: an ordinary one is
  // unchanged, and what an attacker writes into one does not reach the device model column.
  const ua = userAgent(str(ctx.userAgent) || redactor.userAgent(facts.userAgent));
  // The redactor hands back the event's own object when nothing was redacted: copy before adding to it.
  let properties = recordOf(redactor.value(e.properties ?? {}));
  const traits = recordOf(redactor.value(e.type === "identify" || e.type === "group" ? (e.traits ?? {}) : (e.traits ?? sub(rawCtx, "traits"))));

  const ip = redactIp(claimedIp || facts.ip, facts.ipMode);
  // request.cf locates the connection; it says nothing about an address a server forwarded.
  const geo = claimedIp && claimedIp !== facts.ip ? { country: "", region: "", city: "" } : facts.geo;

  const time = correctTime(parseTime(e.timestamp ?? e.originalTimestamp), parseTime(e.sentAt) ?? facts.sentAt, facts.receivedAt);
  const sent = parseTime(e.sentAt) ?? facts.sentAt ?? facts.receivedAt;
  let page = sub(ctx, "page");
  // The page's URLs, already redacted as context, also get the query-string rules of network
  // URLs (secret-named parameters, encoded values); the context keeps the same text.
  const pageUrl = typeof page.url === "string" && page.url.includes("?");
  const pageReferrer = typeof page.referrer === "string" && page.referrer.includes("?");
  if (pageUrl || pageReferrer) {
    const cleanUrl = pageUrl ? redactor.query(String(page.url)) : page.url;
    const cleanReferrer = pageReferrer ? redactor.query(String(page.referrer)) : page.referrer;
    if (cleanUrl !== page.url || cleanReferrer !== page.referrer) {
      page = { ...page, url: cleanUrl, referrer: cleanReferrer };
      // The redactor hands back the event's own context when it redacted nothing in it.
      ctx = withMember(ctx, "page", page);
    }
  }
  const templates = facts.urlTemplates ?? NO_TEMPLATES;
  // Names become columns dashboards group and filter by: they pass the detectors like any text.
  const name = redactor.text(eventName(e));

  let crashType = "";
  let crashMessage = "";
  let crashFp = "";
  let crashFatal = 0;
  let perfMetric = "";
  let perfValue = 0;
  let perfUnit = "";
  let netMethod = "";
  let netHost = "";
  let netPath = "";
  let netStatus = 0;
  let netOutcome = "";
  let netRequestBytes = 0;
  let netResponseBytes = 0;
  let netTemplate = "";
  let duration = 0;
  let path = str(page.path);
  let url = str(page.url);

  if (e.type === "crash") {
    crashType = name;
    crashMessage = redactor.text(e.error.message);
    crashFatal = e.error.fatal ? 1 : 0;
    const frames = facts.symbolicate ? facts.symbolicate(str(sub(rawCtx, "app").version), e.error.frames) : e.error.frames;
    const grouping = groupCrash(crashType, crashMessage, frames, facts.crashRules);
    crashFp = grouping.fingerprint;
    // The rule is kept with the crash: the issue page says which rule grouped it.
    const error = { ...e.error, type: crashType, message: crashMessage, frames, ...(grouping.rule === undefined ? {} : { rule: grouping.rule }) };
    properties = withMember(properties, "error", redactor.value(error));
  } else if (e.type === "perf") {
    perfMetric = name;
    perfValue = e.metric.value;
    perfUnit = redactor.text(e.metric.unit);
    if (perfUnit === "ms") duration = perfValue;
    else if (perfUnit === "s") duration = perfValue * 1000;
    // A React Native app has screens, not pages: the SDK names the current one.
    if (path === "") path = str(properties.screen);
  } else if (e.type === "network") {
    const cleanUrl = redactor.url(e.request.url);
    const parts = splitUrl(cleanUrl);
    netMethod = name;
    netHost = parts.host;
    netPath = parts.path;
    netTemplate = templatePath(netPath, templates);
    netStatus = e.request.status ?? 0;
    netOutcome = networkOutcome(e.request.status, e.request.error);
    netRequestBytes = e.request.requestBytes ?? 0;
    netResponseBytes = e.request.responseBytes ?? 0;
    duration = e.request.duration ?? 0;
    if (path === "") path = str(properties.screen);
    const error = e.request.error === undefined ? {} : { error: redactor.text(e.request.error) };
    properties = withMember(properties, "request", { ...e.request, method: redactor.text(e.request.method), url: cleanUrl, ...error });
  } else if (e.type === "screen") {
    if (e.name !== undefined) path = name;
  } else if (e.type === "alias") {
    properties = withMember(properties, "previousId", redactor.id(e.previousId));
  } else if (e.type === "group") {
    properties = withMember(properties, "groupId", redactor.id(e.groupId));
  }

  // Redacted as ids (hashed when they hold personal data), so one session stays one session.
  const sessionId = str(ctx.sessionId) || str(properties.sessionId) || str(properties.$session_id);
  const campaign = sub(ctx, "campaign");

  const row: EventRow = {
    row_format: ROW_FORMAT,
    app_id: facts.appId,
    type: e.type,
    event: name,
    message_id: storedId,
    user_id: e.userId === undefined ? "" : redactor.id(e.userId),
    anonymous_id: e.anonymousId === undefined ? "" : redactor.id(e.anonymousId),
    session_id: sessionId,
    timestamp: toClickHouseTime(time.timestamp),
    original_timestamp: toClickHouseTime(time.original),
    sent_at: toClickHouseTime(sent),
    received_at: toClickHouseTime(facts.receivedAt),
    platform: platformOf(ctx, ua),
    os_name: str(sub(ctx, "os").name) || ua.os,
    os_version: str(sub(ctx, "os").version) || ua.osVersion,
    app_version: str(sub(ctx, "app").version),
    app_build: str(sub(ctx, "app").build),
    device_type: str(sub(ctx, "device").type) || ua.deviceType,
    device_model: str(sub(ctx, "device").model) || ua.deviceModel,
    device_manufacturer: str(sub(ctx, "device").manufacturer),
    browser: ua.browser,
    browser_version: ua.browserVersion,
    library_name: str(sub(ctx, "library").name),
    library_version: str(sub(ctx, "library").version),
    locale: str(ctx.locale),
    timezone: str(ctx.timezone),
    country: geo.country,
    region: geo.region,
    city: geo.city,
    ip,
    path,
    url,
    referrer: str(page.referrer),
    utm_source: str(campaign.source),
    utm_medium: str(campaign.medium),
    utm_campaign: str(campaign.name),
    crash_type: crashType,
    crash_message: crashMessage,
    crash_fingerprint: crashFp,
    crash_fatal: crashFatal,
    perf_metric: perfMetric,
    perf_value: perfValue,
    perf_unit: perfUnit,
    net_method: netMethod,
    net_host: netHost,
    net_path: netPath,
    net_status: netStatus,
    duration_ms: duration,
    properties,
    traits,
    context: ctx,
    redactions: Math.min(redactor.total - before, 65535),
    path_template: path === "" ? "" : templatePath(path, templates),
    net_template: netTemplate,
    net_outcome: netOutcome,
    net_request_bytes: netRequestBytes,
    net_response_bytes: netResponseBytes,
    batch_id: "",
  };
  return { messageId: storedId, timestampMs: time.timestamp, row };
}
