/**
 * A token bucket: `rate` tokens a second, holding at most `capacity`. A request for more than
 * the capacity is let through when the bucket is full, leaving it in debt: otherwise it could
 * never succeed.
 */
export class TokenBucket {
  private tokens: number;
  private last = 0;

  constructor(
    readonly rate: number,
    readonly capacity: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes `n` tokens and returns 0, or takes none and returns the milliseconds until `n` (or a full bucket) are there. */
  take(n: number, now: number): number {
    if (this.last > 0) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= n || (n > this.capacity && this.tokens >= this.capacity)) {
      this.tokens -= n;
      return 0;
    }
    return Math.ceil(((Math.min(n, this.capacity) - this.tokens) / this.rate) * 1000);
  }
}
