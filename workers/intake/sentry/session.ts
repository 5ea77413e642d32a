import type { z } from "zod";
import type { TrackEvent } from "../../../schemas";
import { contentHash } from "./hash";
import { arr, compact, count, epochMs, obj, str, type Json } from "./values";

/** A `track` event in our wire shape, before validation. */
export type TrackInput = z.input<typeof TrackEvent>;

/** The reserved event name of one session update (`session` item). */
export const SESSION_EVENT = "$session";
/** The reserved event name of one bucket of pre-aggregated sessions (`sessions` item). */
export const SESSIONS_EVENT = "$sessions";

function sdkContext(sdk: Json, release: string | undefined, userAgent: string | undefined): Json {
  const library = compact({ name: str(sdk.name, 128), version: str(sdk.version, 64) });
  return compact({
    library: Object.keys(library).length > 0 ? library : undefined,
    app: release ? { version: release } : undefined,
    userAgent,
  });
}

/**
 * Translates a Sentry session update into a `track` event named `$session` whose
 * `context.sessionId` is the session id, so each session is one `session_id` and its latest
 * update says how it ended (`status`: ok, exited, crashed, abnormal, errored; `errors`).
 * The message id is derived from the update's content, so a retried envelope is deduplicated
 * while successive updates of one session are all kept.
 * @example sessionEvent({sid: "s1", status: "ok", started: "…", attrs: {release: "1.0"}}, {}).event === "$session"
 */
export function sessionEvent(session: Json, envelopeSdk: Json): TrackInput {
  const attrs = obj(session.attrs);
  const sid = str(session.sid, 128) ?? "";
  const release = str(attrs.release, 256);
  const started = epochMs(session.started);
  const timestamp = epochMs(session.timestamp) ?? started;
  const properties = compact({
    sid,
    did: str(session.did, 256),
    status: str(session.status, 32) ?? "ok",
    errors: count(session.errors) ?? 0,
    init: session.init === true,
    seq: count(session.seq),
    started: started === undefined ? undefined : new Date(started).toISOString(),
    duration: typeof session.duration === "number" && Number.isFinite(session.duration) ? session.duration : undefined,
    release,
    environment: str(attrs.environment, 256),
    abnormalMechanism: str(session.abnormal_mechanism, 64),
  });
  return compact({
    type: "track" as const,
    event: SESSION_EVENT,
    messageId: sid ? `${SESSION_EVENT}:${sid}:${contentHash(JSON.stringify(session))}` : undefined,
    anonymousId: sid || "sentry",
    timestamp,
    context: { ...sdkContext(envelopeSdk, release, str(attrs.user_agent, 1024)), sessionId: sid || undefined },
    properties,
  });
}

/**
 * Translates a `sessions` item (sessions counted by the SDK per minute, as server SDKs send
 * them) into one `$sessions` track event per bucket with the counts `exited`, `errored`,
 * `abnormal` and `crashed`. `sentAt` (the envelope's) makes the message id of identical buckets
 * from two different envelopes differ.
 * @example sessionBuckets({aggregates: [{started: "…", exited: 3}], attrs: {release: "1.0"}}, {}, "…")[0]?.properties.exited === 3
 */
export function sessionBuckets(item: Json, envelopeSdk: Json, sentAt: string | undefined): TrackInput[] {
  const attrs = obj(item.attrs);
  const release = str(attrs.release, 256);
  const environment = str(attrs.environment, 256);
  return arr(item.aggregates).map((raw, index) => {
    const bucket = obj(raw);
    const started = epochMs(bucket.started);
    const did = str(bucket.did, 256);
    return compact({
      type: "track" as const,
      event: SESSIONS_EVENT,
      messageId: sentAt ? `${SESSIONS_EVENT}:${contentHash(`${sentAt}\n${index}\n${JSON.stringify(bucket)}\n${JSON.stringify(attrs)}`)}` : undefined,
      anonymousId: did ?? `sessions:${release ?? ""}`,
      timestamp: started,
      context: sdkContext(envelopeSdk, release, undefined),
      properties: compact({
        started: started === undefined ? undefined : new Date(started).toISOString(),
        did,
        exited: count(bucket.exited) ?? 0,
        errored: count(bucket.errored) ?? 0,
        abnormal: count(bucket.abnormal) ?? 0,
        crashed: count(bucket.crashed) ?? 0,
        release,
        environment,
      }),
    });
  });
}
