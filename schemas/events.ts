import { z } from "zod";
import { LIMITS } from "./limits";

/** An id as Segment clients send it: a string, or a number kept as its decimal string. */
const Id = z
  .union([z.string().max(LIMITS.maxIdLength), z.number().finite()])
  .transform((v) => String(v));

/** A point in time: ISO-8601 text or epoch milliseconds; checked further by the edge. */
export const TimeInput = z.union([z.string().max(64), z.number().finite()]);

/**
 * Any JSON object, checked as an object without copying its members: `{plan: "pro"}`. Used for
 * properties, traits and context, which the edge reads defensively and passes on as sent.
 */
export const JsonObject = z.custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: "expected an object" });

const Str = (max: number) => z.string().max(max);

/** Free-form properties or traits: any JSON object. */
export const Properties = JsonObject;

/**
 * The Segment `context` fields the edge reads, e.g. `{os: {name: "iOS"}, page: {path: "/"}}`;
 * anything else is kept as sent. A field of the wrong type is ignored, never fatal.
 */
export interface Context {
  app?: { name?: string; version?: string; build?: string; namespace?: string };
  device?: { id?: string; type?: string; model?: string; manufacturer?: string; name?: string };
  os?: { name?: string; version?: string };
  library?: { name?: string; version?: string };
  locale?: string;
  timezone?: string;
  userAgent?: string;
  /** The end user's address when a server sends on their behalf. */
  ip?: string;
  network?: Record<string, unknown>;
  page?: { path?: string; url?: string; referrer?: string; title?: string; search?: string };
  screen?: { width?: number; height?: number; density?: number };
  /** UTM fields by Segment's names, and ad click ids under their URL parameter's name (`gclid`, schemas/touchpoints.ts). */
  campaign?: { name?: string; source?: string; medium?: string; term?: string; content?: string; [clickId: string]: string | undefined };
  traits?: Record<string, unknown>;
  sessionId?: string | number;
  [key: string]: unknown;
}

const common = {
  messageId: Id.optional(),
  anonymousId: Id.optional(),
  userId: Id.optional(),
  timestamp: TimeInput.optional(),
  originalTimestamp: TimeInput.optional(),
  sentAt: TimeInput.optional(),
  receivedAt: TimeInput.optional(),
  context: JsonObject.optional(),
  integrations: JsonObject.optional(),
  properties: Properties.optional(),
  traits: Properties.optional(),
};

/** A Segment `track`: `{type: "track", event: "Order Completed", properties: {total: 30}}`. */
export const TrackEvent = z.object({ ...common, type: z.literal("track"), event: Str(256).min(1) });
/** A Segment `page`: `{type: "page", name: "Pricing"}`. */
export const PageEvent = z.object({ ...common, type: z.literal("page"), name: Str(256).optional(), category: Str(256).optional() });
/** A Segment `screen`: `{type: "screen", name: "Checkout"}`. */
export const ScreenEvent = z.object({ ...common, type: z.literal("screen"), name: Str(256).optional(), category: Str(256).optional() });
/** A Segment `identify`: `{type: "identify", userId: "u1", traits: {plan: "pro"}}`. */
export const IdentifyEvent = z.object({ ...common, type: z.literal("identify") });
/** A Segment `alias`: `{type: "alias", previousId: "anon-1", userId: "u1"}`. */
export const AliasEvent = z.object({ ...common, type: z.literal("alias"), previousId: Id });
/** A Segment `group`: `{type: "group", groupId: "acme", traits: {seats: 10}}`. */
export const GroupEvent = z.object({ ...common, type: z.literal("group"), groupId: Id });

/**
 * One stack frame of a crash: `{function: "render", file: "app.js", line: 10, column: 3, inApp: true}`;
 * `module` is the frame's module or package where the platform names one (`"app.handlers"`).
 */
export const StackFrame = z.object({
  function: Str(512).optional(),
  file: Str(2048).optional(),
  module: Str(512).optional(),
  line: z.number().int().nonnegative().optional(),
  column: z.number().int().nonnegative().optional(),
  inApp: z.boolean().optional(),
});
/** One stack frame of a crash. */
export type StackFrame = z.infer<typeof StackFrame>;

/** A crash or error: `{type: "crash", error: {type: "TypeError", message: "x is undefined", fatal: true, frames: […]}}`. */
export const CrashEvent = z.object({
  ...common,
  type: z.literal("crash"),
  error: z.object({
    type: Str(256).min(1),
    message: Str(8192).default(""),
    fatal: z.boolean().default(false),
    handled: z.boolean().optional(),
    stack: Str(16384).optional(),
    frames: z.array(StackFrame).max(128).default([]),
  }),
});

/** A performance metric: `{type: "perf", metric: {name: "LCP", value: 1840, unit: "ms"}}`. */
export const PerfEvent = z.object({
  ...common,
  type: z.literal("perf"),
  metric: z.object({ name: Str(128).min(1), value: z.number().finite(), unit: Str(16).default("ms") }),
});

/** A network call: `{type: "network", request: {method: "GET", url: "https://api.example.com/a", status: 200, duration: 87}}`. */
export const NetworkEvent = z.object({
  ...common,
  type: z.literal("network"),
  request: z.object({
    method: Str(16).min(1),
    url: Str(4096).min(1),
    status: z.number().int().min(0).max(999).optional(),
    duration: z.number().finite().nonnegative().optional(),
    requestBytes: z.number().int().nonnegative().optional(),
    responseBytes: z.number().int().nonnegative().optional(),
    error: Str(1024).optional(),
  }),
});

/** Every event type of the wire contract. */
export const EVENT_TYPES = ["track", "page", "screen", "identify", "alias", "group", "crash", "perf", "network"] as const;
/** An event type, e.g. `"track"`. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Any one event, told apart by `type`; needs a `userId` or an `anonymousId`. */
export const Event = z
  .discriminatedUnion("type", [TrackEvent, PageEvent, ScreenEvent, IdentifyEvent, AliasEvent, GroupEvent, CrashEvent, PerfEvent, NetworkEvent])
  .refine((e) => Boolean(e.userId) || Boolean(e.anonymousId), {
    message: "userId or anonymousId is required",
    path: ["userId"],
  });
/** Any one validated event. */
export type Event = z.infer<typeof Event>;
/** A `track` event. */
export type TrackEvent = z.infer<typeof TrackEvent>;
/** A `crash` event. */
export type CrashEvent = z.infer<typeof CrashEvent>;
/** A `perf` event. */
export type PerfEvent = z.infer<typeof PerfEvent>;
/** A `network` event. */
export type NetworkEvent = z.infer<typeof NetworkEvent>;
