import { z } from "zod";

/**
 * What a pipeline counter counts, e.g. `"rejected"`: events accepted, dropped as duplicates,
 * crashes answered as accepted but not kept under the crash caps (by `CrashCapReason`),
 * rejected (by reason), requests refused whole (by reason), events flushed to the queue,
 * inserted into ClickHouse, values redacted, events dead-lettered (by reason), failed attempts
 * to archive a dead letter in R2 (it waits in its queue meanwhile), and events of deleted people
 * dropped at the edge (answered as accepted, like capped crashes).
 */
export const PIPELINE_STAGES = ["accepted", "deduplicated", "capped", "rejected", "refused", "flushed", "inserted", "redacted", "dead_lettered", "archive_failed", "suppressed"] as const;
/** A pipeline stage, e.g. `"flushed"`. */
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

/**
 * Which crash cap kept a crash out: `"issue_cap"` (too many of one fingerprint this minute, a
 * crash loop) or `"app_cap"` (too many crashes of the app this minute).
 */
export const CRASH_CAP_REASONS = ["issue_cap", "app_cap"] as const;
/** Which crash cap kept a crash out, e.g. `"issue_cap"`. */
export type CrashCapReason = (typeof CRASH_CAP_REASONS)[number];

/** The longest crash fingerprint a counter carries, e.g. 14 for today's `crashFingerprint`. */
export const MAX_TALLY_FINGERPRINT_CHARS = 128;

/**
 * One per-minute counter of one app: `{minute: 1764000000, stage: "rejected", reason: "invalid_event", n: 3}`
 * (minute in epoch seconds). Counters of `capped` crashes name the issue's `fingerprint`.
 */
export const Tally = z.object({
  minute: z.number().int().nonnegative(),
  stage: z.enum(PIPELINE_STAGES),
  reason: z.string().max(64),
  n: z.number().int().positive(),
  fingerprint: z.string().min(1).max(MAX_TALLY_FINGERPRINT_CHARS).optional(),
});
/** One per-minute counter of one app, e.g. `{minute: 1764000000, stage: "accepted", reason: "", n: 12}`. */
export type Tally = z.infer<typeof Tally>;

/** A Queue message from an AppBatcher carrying its per-minute counters: `{kind: "tallies", batchId, appId, tallies}`. */
export const TallyMessage = z.object({
  kind: z.literal("tallies"),
  batchId: z.string().min(1),
  appId: z.string().min(1),
  tallies: z.array(Tally),
});
/** A Queue message of per-minute counters; its batch id names the same counters forever. */
export type TallyMessage = z.infer<typeof TallyMessage>;

/** The start of the minute holding `ms`, in epoch seconds: `tallyMinute(Date.UTC(2026, 0, 1, 10, 0, 59_999)) === 1767261600`. */
export function tallyMinute(ms: number): number {
  return Math.floor(ms / 60_000) * 60;
}

/** Encodes counters like `encodeSinkMessage` does rows: a header line with `kind: "tallies"`, then one JSON counter per line. */
export function encodeTallyMessage(batchId: string, appId: string, tallies: readonly Tally[]): string {
  return [JSON.stringify({ kind: "tallies", batchId, appId }), ...tallies.map((t) => JSON.stringify(t))].join("\n");
}
