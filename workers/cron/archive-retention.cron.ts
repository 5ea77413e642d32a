import { archiveBuckets } from "../apps/location";
import { DEAD_LETTER_PREFIX } from "../queue/dead-letters";

const KEEP_DAYS = 30;

/** Deletes dead-letter archives older than 30 days, in every bucket; returns how many. */
export async function pruneDeadLetters(env: Env, now: Date): Promise<number> {
  let deleted = 0;
  for (const { bucket } of archiveBuckets(env)) deleted += await pruneBucket(bucket, now);
  return deleted;
}

async function pruneBucket(bucket: R2Bucket, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix: DEAD_LETTER_PREFIX, cursor, limit: 1000 });
    // Keys start with the day they were archived, so a string compare finds the old ones.
    const old = listing.objects.map((o) => o.key).filter((k) => k.slice(DEAD_LETTER_PREFIX.length, DEAD_LETTER_PREFIX.length + 10) < cutoff);
    if (old.length > 0) await bucket.delete(old);
    deleted += old.length;
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return deleted;
}
