import { z } from "zod";

/**
 * What a pipeline counter counts, e.g. `"rejected"`: events accepted, dropped as duplicates,
 * rejected (by reason), requests refused whole (by reason), events flushed to the queue,
 * inserted into ClickHouse, values redacted, events dead-lettered (by reason), and failed attempts
 * to archive a dead letter in R2 (it waits in its queue meanwhile).
 */
export const PIPELINE_STAGES = ["accepted", "deduplicated", "rejected", "refused", "flushed", "inserted", "redacted", "dead_lettered", "archive_failed"] as const;
/** A pipeline stage, e.g. `"flushed"`. */
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

/** One per-minute counter of one app: `{minute: 1764000000, stage: "rejected", reason: "invalid_event", n: 3}` (minute in epoch seconds). */
export const Tally = z.object({
  minute: z.number().int().nonnegative(),
  stage: z.enum(PIPELINE_STAGES),
  reason: z.string().max(64),
  n: z.number().int().positive(),
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
