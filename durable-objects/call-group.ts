/**
 * When calls that come close together are stored together (decision record 0040): a call that
 * comes within `windowMs` of the one before waits up to `windowMs` for others, and the group is
 * stored in one transaction. 0 stores every call on its own.
 */
export interface GroupSettings {
  windowMs: number;
  /** A group is stored as soon as it holds this many calls… */
  maxCalls: number;
  /** …or this many rows. */
  maxRows: number;
}

/** What a call brings to a group: its rows, their bytes, and the ids it will hold once stored. */
export interface GroupPart {
  rows: number;
  bytes: number;
  ids: readonly string[];
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Groups in a row that held one call each, after which close calls mostly stop waiting. */
export const LONE_GROUPS = 8;
/** While they do, one close call in this many still waits, to find out whether company came back. */
export const PROBE_EVERY = 8;

/**
 * Whether a close call opens a group, from how the last groups went: the rule `CallGroup`
 * follows, and the one the cost model (bench/cost-model.ts) simulates.
 * `const company = new Company(); if (company.opens()) wait(); company.stored(calls)`
 */
export class Company {
  // Groups stored in a row with one call each, and close calls stored at once since.
  private lone = 0;
  private skipped = 0;

  /** Whether a call that came within the window of the one before waits for others. */
  opens(): boolean {
    return this.lone < LONE_GROUPS || ++this.skipped % PROBE_EVERY === 0;
  }

  /** A group of `calls` calls was stored. */
  stored(calls: number): void {
    if (calls > 1) {
      this.lone = 0;
      this.skipped = 0;
    } else this.lone++;
  }
}

/**
 * Gathers the calls of a busy shard so that they are stored with one transaction, one commit
 * and one chunk row (a row is what SQLite-backed Durable Objects bill). An idle shard stores
 * each call at once: a call waits only when the one before it came within the window, and then
 * at most the window. Waiting is for company: after `LONE_GROUPS` groups in a row that found
 * none (one sender whose next call follows its last answer), only every `PROBE_EVERY`th close
 * call waits, until a group finds company again. The group's ids count as held from the moment
 * a call joins, so a copy in a later call of the same group is a duplicate; if the group's
 * store fails, every call in it fails and is sent again by its client, so no call is answered
 * for events that were not stored.
 *
 * `const group = new CallGroup({windowMs: 4, maxCalls: 32, maxRows: 2500}, (parts) => store(parts));
 * await group.join(part, Date.now())`
 */
export class CallGroup<P extends GroupPart> {
  private parts: P[] = [];
  private readonly company = new Company();
  private waiters: Waiter[] = [];
  private readonly ids = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastJoin = Number.NEGATIVE_INFINITY;
  private pendingRows = 0;
  private pendingBytes = 0;

  constructor(
    private settings: GroupSettings,
    private readonly store: (parts: readonly P[]) => void,
  ) {}

  /** Rows and bytes of the calls waiting to be stored: a backlog like the stored one. */
  get rows(): number {
    return this.pendingRows;
  }

  get bytes(): number {
    return this.pendingBytes;
  }

  /** Calls waiting to be stored. */
  get size(): number {
    return this.parts.length;
  }

  /** Whether a call waiting in the group holds `id`. */
  holds(id: string): boolean {
    return this.ids.has(id);
  }

  /** New settings apply to the next group. */
  configure(settings: GroupSettings): void {
    this.settings = settings;
  }

  /**
   * Stores `part` now, or with the calls around it: resolves once it is stored, and rejects
   * with what the store threw, for every call of the group.
   */
  join(part: P, now: number): Promise<void> {
    let close = now - this.lastJoin < this.settings.windowMs;
    this.lastJoin = now;
    if (close && this.parts.length === 0) close = this.company.opens();
    if (this.parts.length === 0 && !close) {
      try {
        this.store([part]);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const stored = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.parts.push(part);
    for (const id of part.ids) this.ids.add(id);
    this.pendingRows += part.rows;
    this.pendingBytes += part.bytes;
    if (this.parts.length >= this.settings.maxCalls || this.pendingRows >= this.settings.maxRows) this.settle();
    else this.timer ??= setTimeout(() => this.settle(), this.settings.windowMs);
    return stored;
  }

  /** Stores the waiting calls now: before anything reads what the shard holds. */
  settle(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const parts = this.parts;
    const waiters = this.waiters;
    if (parts.length === 0) return;
    this.parts = [];
    this.waiters = [];
    this.ids.clear();
    this.pendingRows = 0;
    this.pendingBytes = 0;
    this.company.stored(parts.length);
    try {
      this.store(parts);
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const w of waiters) w.resolve();
  }
}
