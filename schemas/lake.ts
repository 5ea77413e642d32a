import { z } from "zod";

/** The most lake files one replay request inserts; the answer's cursor continues. */
export const MAX_REPLAY_FILES = 20;

/** `POST /admin/apps/:app/lake/replay`: the files of an app's lake holding stored hours in [from, to) (a compacted day whole), a page at a time. */
export const LakeReplay = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    /** The `cursor` of the previous answer, to go on where it stopped. */
    cursor: z.string().min(1).max(512).optional(),
    limit: z.number().int().min(1).max(MAX_REPLAY_FILES).default(4),
  })
  .strict()
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), { message: "from must be before to", path: ["to"] });
export type LakeReplay = z.infer<typeof LakeReplay>;

/** One lake file a replay went through. */
export const ReplayedFile = z.object({
  key: z.string(),
  rows: z.number().int(),
  /** `inserted`, or `present` when ClickHouse already holds the file's rows (nothing was inserted). */
  outcome: z.enum(["inserted", "present"]),
});

/** What a replay request did; `cursor` is null once the range is done. */
export const LakeReplayResult = z.object({ files: z.array(ReplayedFile), rowsInserted: z.number().int(), cursor: z.string().nullable() });
export type LakeReplayResult = z.infer<typeof LakeReplayResult>;
