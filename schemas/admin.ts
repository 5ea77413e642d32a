import { z } from "zod";
import { RedactionPolicy } from "./redaction";

/** The most shards an app may have; deleting an app retires every one of them. */
export const MAX_SHARD_COUNT = 64;

/** An app id: lowercase letters, digits, `_` and `-`, e.g. `"app_shop"`. */
export const AppId = z.string().regex(/^[a-z0-9][a-z0-9_-]{1,62}$/, "an app id is 2-63 lowercase letters, digits, _ or -");

/** `POST /admin/apps`: `{id: "app_shop", name: "Shop", rateLimit: 5000}`; unset fields take the defaults. */
export const CreateApp = z.object({
  id: AppId,
  name: z.string().min(1).max(200),
  /** Events per second across all shards; 0 means no limit. */
  rateLimit: z.number().int().min(0).max(1_000_000).optional(),
  shardCount: z.number().int().min(1).max(MAX_SHARD_COUNT).optional(),
  retentionDays: z.number().int().min(1).max(3650).optional(),
  redactionPolicy: RedactionPolicy.optional(),
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

/** An app as the admin API and the dashboard show it; `redactionPolicy` is its stored JSON, null for the defaults. */
export interface AppInfo {
  id: string;
  name: string;
  createdAt: number;
  rateLimit: number;
  shardCount: number;
  retentionDays: number;
  redactionPolicy: string | null;
}
