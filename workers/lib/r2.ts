/** Deletes every object under `prefix`; returns how many there were. */
export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    // Listing again after each delete instead of following a cursor: the keys it pointed past are gone.
    const page = await bucket.list({ prefix, limit: 1000 });
    if (page.objects.length === 0) return deleted;
    await bucket.delete(page.objects.map((o) => o.key));
    deleted += page.objects.length;
  }
}
