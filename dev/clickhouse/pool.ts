import { mkdirSync } from "node:fs";
import { drainPending, Session } from "chdb";
import { ClickHouseHttpError } from "./errors";

// chDB's built-in defaults differ from a ClickHouse server's (async_insert is on, for one), so
// every session starts from explicit values chosen to match ClickHouse Cloud. Each SET holds
// for the life of its session only, which is why each pooled session gets them all.
export const SESSION_DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  // Cloud's default: the HTTP response means the rows are in the table.
  ["async_insert", "0"],
  // Cloud's default is 0 (mutations run in the background). Local tests and tools delete rows
  // and read them back straight away; with 2 the ALTER returns once it is done everywhere,
  // instead of sprinkling polling into every test. Production code must not rely on this.
  ["mutations_sync", "2"],
  // ClickHouse's default, which chDB turns off; clients rely on UInt64 in JSON being strings.
  ["output_format_json_quote_64bit_integers", "1"],
  // ClickHouse's default since 26.5, so current Cloud's too. Pinned because older servers
  // (production may run any ClickHouse >= 24) default to `basic`, which rejects the ISO-8601
  // timestamps our clients send; the Worker therefore sets it on every request as well.
  ["date_time_input_format", "best_effort"],
  // Cloud servers run in UTC; a developer machine may not, and DateTime without a zone would
  // then parse and print differently here than in production.
  ["session_timezone", "UTC"],
];

interface Waiter {
  resolve: (session: Session) => void;
  reject: (err: Error) => void;
}

/**
 * A fixed set of chDB Sessions on one data directory. Sessions on the same path run queries in
 * parallel, but one Session runs one query at a time, so each request borrows a whole Session.
 */
export class SessionPool {
  private readonly idle: Session[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly all = new Set<Session>();
  private busy = 0;
  private closed = false;
  private onIdle: (() => void) | undefined;

  private constructor(
    private readonly dataDir: string,
    private readonly settings: ReadonlyArray<readonly [string, string]>,
  ) {}

  /** `settings` are set on every Session after {@link SESSION_DEFAULTS}, for its whole life. */
  static async open(dataDir: string, size: number, settings: ReadonlyArray<readonly [string, string]> = []): Promise<SessionPool> {
    mkdirSync(dataDir, { recursive: true });
    const pool = new SessionPool(dataDir, settings);
    try {
      for (let i = 0; i < Math.max(1, size); i++) pool.idle.push(await pool.create());
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private async create(): Promise<Session> {
    const session = new Session(this.dataDir);
    this.all.add(session);
    for (const [name, value] of [...SESSION_DEFAULTS, ...this.settings]) {
      const literal = /^\d+$/.test(value) ? value : `'${value}'`;
      await session.queryAsync(`SET ${name} = ${literal}`);
    }
    return session;
  }

  /** Runs `fn` with a Session of its own; waits for one when all are busy. */
  async use<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    const session = await this.acquire();
    let broken = false;
    try {
      return await fn(session);
    } catch (err) {
      if (!(err instanceof PoisonedSession)) throw err;
      broken = true;
      throw err.cause;
    } finally {
      await this.release(session, broken);
    }
  }

  private acquire(): Promise<Session> {
    if (this.closed) return Promise.reject(shuttingDown());
    const session = this.idle.pop();
    if (session) {
      this.busy++;
      return Promise.resolve(session);
    }
    return new Promise<Session>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async release(session: Session, broken: boolean): Promise<void> {
    let next = session;
    if (broken && !this.closed) {
      // Its session state (current database, settings) is no longer known: start afresh.
      this.all.delete(session);
      session.close();
      try {
        next = await this.create();
      } catch {
        this.busy--;
        if (this.all.size === 0) for (const w of this.waiters.splice(0)) w.reject(new Error("no chDB session could be opened"));
        if (this.busy === 0) this.onIdle?.();
        return;
      }
    }
    const waiter = this.closed ? undefined : this.waiters.shift();
    if (waiter) {
      waiter.resolve(next);
      return;
    }
    this.busy--;
    this.idle.push(next);
    if (this.busy === 0) this.onIdle?.();
  }

  /** Refuses new work, waits for running queries, then closes every Session. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(shuttingDown());
    if (this.busy > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
    for (const s of this.all) s.close();
    this.all.clear();
    this.idle.length = 0;
    await drainPending();
  }
}

/** Thrown from inside {@link SessionPool.use} to say the Session must not be reused. */
export class PoisonedSession extends Error {
  constructor(override readonly cause: unknown) {
    super("session state unknown");
  }
}

function shuttingDown(): ClickHouseHttpError {
  return new ClickHouseHttpError(439, "The local ClickHouse server is shutting down", "CANNOT_SCHEDULE_TASK");
}
