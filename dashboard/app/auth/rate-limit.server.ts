// Rate limiting in D1 over a sliding 15-minute window. Sign-in failures are counted per e-mail
// address (guessing one account's password) and per client IP (trying many accounts); unknown
// invitation links per client IP (guessing tokens, which are too long to guess anyway).

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 30;

const emailKey = (email: string): string => `email:${email.trim().toLowerCase()}`;
const ipKey = (ip: string): string => `ip:${ip}`;
const inviteKey = (ip: string): string => `invite:${ip}`;

/** True when this e-mail or this IP has failed too often in the window. */
export async function loginBlocked(db: D1Database, email: string, ip: string, now = Date.now()): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT sum(key = ?1) AS by_email, sum(key = ?2) AS by_ip FROM login_failures
       WHERE key IN (?1, ?2) AND at > ?3`,
    )
    .bind(emailKey(email), ipKey(ip), now - LOGIN_WINDOW_MS)
    .first<{ by_email: number | null; by_ip: number | null }>();
  return (row?.by_email ?? 0) >= MAX_FAILURES_PER_EMAIL || (row?.by_ip ?? 0) >= MAX_FAILURES_PER_IP;
}

/** Records a failure under each key and forgets failures older than the window. */
async function record(db: D1Database, keys: readonly string[], now: number): Promise<void> {
  await db.batch([
    ...keys.map((key) => db.prepare("INSERT INTO login_failures (key, at) VALUES (?, ?)").bind(key, now)),
    db.prepare("DELETE FROM login_failures WHERE at <= ?").bind(now - LOGIN_WINDOW_MS),
  ]);
}

/** Records one failed sign-in. */
export async function recordLoginFailure(db: D1Database, email: string, ip: string, now = Date.now()): Promise<void> {
  await record(db, [emailKey(email), ipKey(ip)], now);
}

/** A successful sign-in clears the account's failures (not the IP's). */
export async function clearLoginFailures(db: D1Database, email: string): Promise<void> {
  await db.prepare("DELETE FROM login_failures WHERE key = ?").bind(emailKey(email)).run();
}

export const MAX_UNKNOWN_INVITES_PER_IP = 20;

/** True when this IP has opened too many unknown invitation links in the window. */
export async function inviteGuessesBlocked(db: D1Database, ip: string, now = Date.now()): Promise<boolean> {
  const row = await db.prepare("SELECT count(*) AS n FROM login_failures WHERE key = ? AND at > ?").bind(inviteKey(ip), now - LOGIN_WINDOW_MS).first<{ n: number }>();
  return (row?.n ?? 0) >= MAX_UNKNOWN_INVITES_PER_IP;
}

/** Records one unknown invitation link opened from this IP. */
export async function recordInviteGuess(db: D1Database, ip: string, now = Date.now()): Promise<void> {
  await record(db, [inviteKey(ip)], now);
}
