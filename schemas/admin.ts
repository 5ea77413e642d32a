import { z } from "zod";
import { RedactionPolicy } from "./redaction";

/** The most shards an app may have; deleting an app retires every one of them. */
export const MAX_SHARD_COUNT = 64;

/**
 * The longest retention an app may set, in days: raw events also expire by the events table's
 * TTL at 90 days, so a longer setting could not be kept. `retentionDays: 30` keeps 30 days.
 */
export const MAX_RETENTION_DAYS = 90;

/** How long rollups (counts and sketches, no person's id) are kept whatever an app's retention, e.g. 365. */
export const ROLLUP_RETENTION_DAYS = 365;

/**
 * Where an app's buffered events and R2 archives live: `"eu"` pins its Durable Objects to the
 * EU jurisdiction and its archives to the EU bucket; `"default"` lets Cloudflare place them.
 */
export const AppLocation = z.enum(["default", "eu"]);
/** `"default"` or `"eu"`; chosen when an app is created, fixed after. */
export type AppLocation = z.infer<typeof AppLocation>;

/** An app id: lowercase letters, digits, `_` and `-`, e.g. `"app_shop"`. */
export const AppId = z.string().regex(/^[a-z0-9][a-z0-9_-]{1,62}$/, "an app id is 2-63 lowercase letters, digits, _ or -");

/** `POST /admin/apps`: `{id: "app_shop", name: "Shop", rateLimit: 5000}`; unset fields take the defaults. */
export const CreateApp = z.object({
  id: AppId,
  name: z.string().min(1).max(200),
  /** Events per second across all shards; 0 means no limit. */
  rateLimit: z.number().int().min(0).max(1_000_000).optional(),
  shardCount: z.number().int().min(1).max(MAX_SHARD_COUNT).optional(),
  /** Whether a busy shard raises the count by itself; on unless set false. */
  autoShards: z.boolean().optional(),
  retentionDays: z.number().int().min(1).max(MAX_RETENTION_DAYS).optional(),
  redactionPolicy: RedactionPolicy.optional(),
  /** Fixed for the app's life: its buffers cannot move between jurisdictions. */
  location: AppLocation.optional(),
});
/** The body of `POST /admin/apps`. */
export type CreateApp = z.infer<typeof CreateApp>;

/** `POST /admin/apps/:id/keys`: `{name: "web"}`; `key` sets the key itself (local seeding), else one is generated. */
export const CreateWriteKey = z.object({
  name: z.string().max(200).default(""),
  key: z.string().min(16).max(256).regex(/^[\x21-\x7e]+$/, "a write key is printable ASCII without spaces").optional(),
});
/** The body of `POST /admin/apps/:id/keys`. */
export type CreateWriteKey = z.infer<typeof CreateWriteKey>;

/** A write key as listed: its prefix only, e.g. `{id: "key_…", prefix: "wk_3f9a0c1b", revokedAt: null}`. */
export interface WriteKeyInfo {
  id: string;
  appId: string;
  prefix: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

/**
 * What places an app's events on its shards (decision record 0036): their device (`anonymousId`,
 * else `userId`, else messageId), so a client's request is one shard's; or, for apps that had
 * several shards before that, their messageId until the count next changes.
 */
export type ShardKey = "device" | "id";

/** An app as the admin API and the dashboard show it; `redactionPolicy` is its stored JSON, null for the defaults. */
export interface AppInfo {
  id: string;
  name: string;
  createdAt: number;
  rateLimit: number;
  shardCount: number;
  /** What places events on those shards. */
  shardKey: ShardKey;
  /** Whether a busy shard raises `shardCount` by itself (decision record 0035). */
  autoShards: boolean;
  /** The count before the last change and when that change took or takes effect (epoch ms); null when it never changed. */
  previousShardCount: number | null;
  shardsFrom: number | null;
  /** Raw events and per-person rows older than this many days are deleted daily. */
  retentionDays: number;
  redactionPolicy: string | null;
  location: AppLocation;
}
