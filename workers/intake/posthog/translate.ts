import type { StackFrame } from "../../../schemas";
import type { DoorBatch, FoundKey } from "../../ingest/ingest";
import { HttpError } from "../../lib/errors";
import { isRecord as isObject, mergeDefined } from "../../lib/json";

type Json = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const id = (v: unknown): string | undefined => (typeof v === "number" && Number.isFinite(v) ? String(v) : text(v));
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const whole = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined);

/** Drops the members whose value is `undefined`, so an absent property stays absent. */
function defined(obj: Json): Json | undefined {
  const out: Json = {};
  let kept = 0;
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    out[k] = v;
    kept++;
  }
  return kept > 0 ? out : undefined;
}

// PostHog properties that have a slot in our event: they move there and leave `properties`.
const MOVED = new Set([
  "token", "api_key", "distinct_id", "$set", "$set_once", "$anon_distinct_id", "$device_id", "$is_identified", "$session_id",
  "$current_url", "$pathname", "$referrer", "$host", "title", "$lib", "$lib_version", "$os", "$os_version", "$browser",
  "$browser_version", "$device_type", "$device_model", "$device_manufacturer", "$screen_width", "$screen_height",
  "$app_version", "$app_build", "$app_name", "$app_namespace", "$timezone", "$browser_language", "$locale", "$ip",
  "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "$screen_name", "$exception_list",
  "$group_type", "$group_key", "$group_set", "alias",
]);

function contextOf(p: Json): Json {
  const referrer = text(p.$referrer);
  return defined({
    page: defined({ url: text(p.$current_url), path: text(p.$pathname), referrer: referrer === "$direct" ? undefined : referrer, host: text(p.$host), title: text(p.title) }),
    library: defined({ name: text(p.$lib), version: text(p.$lib_version) }),
    os: defined({ name: text(p.$os), version: id(p.$os_version) }),
    browser: defined({ name: text(p.$browser), version: id(p.$browser_version) }),
    device: defined({ id: id(p.$device_id), type: text(p.$device_type), model: text(p.$device_model), manufacturer: text(p.$device_manufacturer) }),
    screen: defined({ width: num(p.$screen_width), height: num(p.$screen_height) }),
    app: defined({ name: text(p.$app_name), version: id(p.$app_version), build: id(p.$app_build), namespace: text(p.$app_namespace) }),
    campaign: defined({ source: text(p.utm_source), medium: text(p.utm_medium), name: text(p.utm_campaign), term: text(p.utm_term), content: text(p.utm_content) }),
    locale: text(p.$locale) ?? text(p.$browser_language),
    timezone: text(p.$timezone),
    ip: text(p.$ip),
    sessionId: id(p.$session_id),
  }) ?? {};
}

function propertiesOf(p: Json): Json {
  const out: Json = {};
  for (const k in p) if (!MOVED.has(k)) out[k] = p[k];
  return out;
}

/**
 * Who did it. posthog-js sends the anonymous id as `distinct_id` until `identify`, with
 * `$is_identified: false` and `$device_id` equal to it; servers send the user's own id.
 */
function identity(e: Json, p: Json, name: string): { userId?: string; anonymousId?: string } {
  const distinct = id(e.distinct_id) ?? id(p.distinct_id) ?? id(e.$distinct_id);
  const device = id(p.$device_id);
  const anon = id(p.$anon_distinct_id);
  if (distinct === undefined) return { anonymousId: anon ?? device };
  const anonymous = name !== "$identify" && (p.$is_identified === false || (p.$is_identified !== true && distinct === device));
  if (anonymous) return { anonymousId: distinct };
  const other = anon ?? device;
  return { userId: distinct, ...(other !== undefined && other !== distinct ? { anonymousId: other } : {}) };
}

const MAX_FRAMES = 128;

// PostHog lists frames outermost first, like Sentry; ours start at the crash site.
function framesOf(exception: Json): StackFrame[] {
  const stacktrace = isObject(exception.stacktrace) ? exception.stacktrace : {};
  const raw = Array.isArray(stacktrace.frames) ? stacktrace.frames : [];
  const frames: StackFrame[] = [];
  for (let i = raw.length - 1; i >= 0 && frames.length < MAX_FRAMES; i--) {
    const f: unknown = raw[i];
    if (!isObject(f)) continue;
    const file = text(f.filename) ?? text(f.abs_path);
    frames.push(
      defined({
        function: text(f.function)?.slice(0, 512),
        file: file?.slice(0, 2048),
        module: text(f.module)?.slice(0, 512),
        line: whole(f.lineno),
        column: whole(f.colno),
        inApp: typeof f.in_app === "boolean" ? f.in_app : undefined,
      }) ?? {},
    );
  }
  return frames;
}

function errorOf(p: Json): Json {
  const list = Array.isArray(p.$exception_list) ? p.$exception_list : [];
  const first: unknown = list[0];
  const exception = isObject(first) ? first : {};
  const mechanism = isObject(exception.mechanism) ? exception.mechanism : {};
  const type = (text(exception.type) ?? text(p.$exception_type) ?? "Error").slice(0, 256);
  const message = (text(exception.value) ?? text(p.$exception_message) ?? "").slice(0, 8192);
  return {
    type,
    message,
    fatal: p.$exception_level === "fatal",
    ...(typeof mechanism.handled === "boolean" ? { handled: mechanism.handled } : {}),
    frames: framesOf(exception),
  };
}

/** The ISO time or epoch milliseconds PostHog sent, or `undefined`. */
function timeOf(v: unknown): string | number | undefined {
  return typeof v === "string" && v !== "" ? v : num(v);
}

/**
 * One PostHog event in our wire shape. `sentAt` and `receivedAt` place an event that says
 * only how long ago it happened (`offset`, in milliseconds).
 */
export function translateEvent(raw: unknown, sentAt: string | number | undefined, receivedAt: number): unknown {
  if (!isObject(raw)) return raw;
  const p: Json = isObject(raw.properties) ? raw.properties : {};
  const name = typeof raw.event === "string" ? raw.event : "";
  const set = isObject(raw.$set) ? raw.$set : isObject(p.$set) ? p.$set : undefined;
  const setOnce = isObject(raw.$set_once) ? raw.$set_once : isObject(p.$set_once) ? p.$set_once : undefined;
  const traits = set || setOnce ? { ...(setOnce ?? {}), ...(set ?? {}) } : undefined;

  let timestamp = timeOf(raw.timestamp);
  const offset = num(raw.offset);
  if (timestamp === undefined && offset !== undefined) {
    const base = typeof sentAt === "number" ? sentAt : sentAt !== undefined ? Date.parse(sentAt) : receivedAt;
    if (Number.isFinite(base)) timestamp = base - offset;
  }
  const common: Json = {
    messageId: id(raw.uuid),
    ...identity(raw, p, name),
    timestamp,
    context: contextOf(p),
    properties: propertiesOf(p),
  };
  switch (name) {
    case "$pageview":
      return mergeDefined(common, { type: "page", name: text(p.title)?.slice(0, 256) });
    case "$screen":
      return mergeDefined(common, { type: "screen", name: text(p.$screen_name)?.slice(0, 256) });
    case "$identify":
    case "$set":
      return mergeDefined(common, { type: "identify", traits: traits ?? {} });
    case "$groupidentify":
      return mergeDefined(common, {
        type: "group",
        groupId: id(p.$group_key),
        traits: isObject(p.$group_set) ? p.$group_set : {},
        properties: { ...propertiesOf(p), groupType: p.$group_type },
      });
    case "$create_alias":
      return mergeDefined(common, { type: "alias", previousId: id(p.alias) });
    case "$exception":
      return mergeDefined(common, { type: "crash", error: errorOf(p) });
    default:
      return mergeDefined(common, { type: "track", event: name, traits });
  }
}

function keyOf(body: Json, events: readonly unknown[], queryKey: string | null): FoundKey | null {
  const inBody = text(body.api_key) ?? text(body.token);
  if (inBody) return { key: inBody, from: "body" };
  for (const e of events) {
    if (!isObject(e)) continue;
    const own = text(e.api_key) ?? text(e.token) ?? (isObject(e.properties) ? text(e.properties.token) : undefined);
    if (own) return { key: own, from: "body" };
  }
  return queryKey ? { key: queryKey, from: "query" } : null;
}

/** What a capture request said besides its body. */
export interface CaptureFacts {
  receivedAt: number;
  /** `?sent_at=` or `?_=` (epoch milliseconds), which posthog-js may send instead of a body `sent_at`. */
  querySentAt?: number;
  /** `?token=` or `?api_key=`. */
  queryKey?: string | null;
}

/**
 * Translates a decoded PostHog capture payload into our events, envelope and key. It takes
 * every shape PostHog's capture API takes: `{api_key, batch: [...], sent_at}`, `{batch}` with
 * the key in each event's `properties.token`, a bare array of events, or one event with
 * `api_key` or `token`. Throws a 400 `HttpError` for a payload that is none of these.
 * @example translateCapture({ api_key: "wk_1", batch: [{ event: "$pageview", distinct_id: "u1" }] }, { receivedAt: Date.now() })
 */
export function translateCapture(payload: unknown, facts: CaptureFacts): DoorBatch {
  let body: Json;
  let events: unknown[];
  if (Array.isArray(payload)) {
    body = {};
    events = payload;
  } else if (isObject(payload)) {
    body = payload;
    if (Array.isArray(payload.batch)) events = payload.batch;
    else if (Array.isArray(payload.data)) events = payload.data;
    else if (isObject(payload.data)) events = [payload.data];
    else if (payload.event !== undefined) events = [payload];
    else throw new HttpError(400, "invalid_body", "the payload holds no `batch` and is no event");
  } else {
    throw new HttpError(400, "invalid_body", "the payload must be a JSON object or array");
  }
  const sentAt = timeOf(body.sent_at) ?? facts.querySentAt;
  return {
    events: events.map((e) => translateEvent(e, sentAt, facts.receivedAt)),
    envelope: sentAt === undefined ? {} : { sentAt },
    key: keyOf(body, events, facts.queryKey ?? null),
  };
}
