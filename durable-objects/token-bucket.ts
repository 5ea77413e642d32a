/** A token bucket: `rate` tokens a second, holding at most `capacity`. */
export class TokenBucket {
  private tokens: number;
  private last = 0;

  constructor(
    readonly rate: number,
    readonly capacity: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes `n` tokens and returns 0, or takes none and returns the milliseconds until `n` are there. */
  take(n: number, now: number): number {
    if (this.last > 0) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= n) {
      this.tokens -= n;
      return 0;
    }
    return Math.ceil(((Math.min(n, this.capacity) - this.tokens) / this.rate) * 1000);
  }
}
