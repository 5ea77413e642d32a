import type { CrashCapReason } from "../schemas";

/** Crashes one shard keeps per minute: per fingerprint and in all; 0 means no cap. */
export interface CrashCapLimits {
  perIssue: number;
  perApp: number;
}

// A shard stops remembering new fingerprints past this many in one minute (only possible with
// no app cap): their crashes are kept, so memory stays bounded whatever the fingerprints.
const MAX_TRACKED_FINGERPRINTS = 20_000;

/**
 * A deployment's per-app caps as one shard's share: the app's crashes spread over its shards by
 * messageId, like its rate limit, so each shard keeps its part of the cap (at least one crash,
 * so a cap never turns into no cap). `shardLimits({perIssue: 60, perApp: 1000}, 4)` is
 * `{perIssue: 15, perApp: 250}`.
 */
export function shardLimits(limits: CrashCapLimits, shardCount: number): CrashCapLimits {
  const shards = Math.max(1, shardCount);
  const share = (cap: number): number => (cap > 0 ? Math.max(1, Math.floor(cap / shards)) : 0);
  return { perIssue: share(limits.perIssue), perApp: share(limits.perApp) };
}

/**
 * Counts one shard's crashes in fixed UTC minutes (the pipeline counters' minutes) and says
 * which cap a crash is over. The counts live in memory, with the rate limiter's trade-off: no
 * storage write per crash, and an object that restarts mid-minute forgets its counts, letting
 * at most one more cap's worth through. A crash loop keeps its object busy, so it stays in memory.
 */
export class CrashCaps {
  private minute = -1;
  private kept = 0;
  private readonly perFingerprint = new Map<string, number>();

  constructor(readonly limits: CrashCapLimits) {}

  /**
   * Keeps one crash of `fingerprint` at `now` (epoch ms), counting it, or names the cap it is
   * over without counting it. A fingerprint at its own cap is a crash loop, whatever the app's count.
   */
  admit(fingerprint: string, now: number): CrashCapReason | null {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.kept = 0;
      this.perFingerprint.clear();
    }
    const seen = this.perFingerprint.get(fingerprint) ?? 0;
    if (this.limits.perIssue > 0 && seen >= this.limits.perIssue) return "issue_cap";
    if (this.limits.perApp > 0 && this.kept >= this.limits.perApp) return "app_cap";
    if (seen > 0 || this.perFingerprint.size < MAX_TRACKED_FINGERPRINTS) this.perFingerprint.set(fingerprint, seen + 1);
    this.kept++;
    return null;
  }
}
