import { z } from "zod";

/**
 * A per-app grouping rule as the edge applies it: the first rule whose matchers all match a
 * new crash decides its fingerprint. `merge` puts every matching crash in one issue; `split`
 * refines the default fingerprint by the crash's normalised message. A matcher left out
 * matches anything; `message` and `module` are globs where `*` is any run of characters.
 * `{id: "r1", action: "merge", type: "ChunkLoadError"}`
 */
export const CrashRule = z.object({
  id: z.string().min(1).max(64),
  action: z.enum(["merge", "split"]),
  type: z.string().max(256).optional(),
  message: z.string().max(512).optional(),
  module: z.string().max(512).optional(),
});
/** A per-app grouping rule as the edge applies it. */
export type CrashRule = z.infer<typeof CrashRule>;

/** At most this many grouping rules per app: each new crash is checked against all of them. */
export const MAX_CRASH_RULES = 50;

/** What a team decided about an issue; `regressed` is set by the platform, never chosen. */
export const ISSUE_STATUSES = ["unresolved", "resolved", "ignored", "regressed"] as const;
/** What a team decided about an issue, e.g. `"resolved"`. */
export type IssueStatus = (typeof ISSUE_STATUSES)[number];
