// Checking an e-mail and password, for the sign-in page and the invitation page alike: the same
// rate limit, and the same hashing time whether or not the account exists.
import { findUserByEmail, type User } from "../db/accounts.server";
import { DECOY_HASH, verifyPassword } from "./password.server";
import { clearLoginFailures, loginBlocked, recordLoginFailure } from "./rate-limit.server";

export type PasswordCheck = { user: User } | { error: string; status: 400 | 401 | 429 };

/** The address rate limits count by: Cloudflare's view of the client, or "local" in development. */
export const clientIp = (request: Request): string => request.headers.get("cf-connecting-ip") ?? "local";

/** The account when the password is right; otherwise what to tell the user, and the status. */
export async function checkPassword(db: D1Database, email: string, password: unknown, ip: string): Promise<PasswordCheck> {
  if (!email || typeof password !== "string" || !password) return { error: "Enter your e-mail and password.", status: 400 };
  if (await loginBlocked(db, email, ip)) return { error: "Too many failed sign-ins. Wait 15 minutes and try again.", status: 429 };
  const user = await findUserByEmail(db, email);
  const ok = await verifyPassword(password, user?.passwordHash ?? DECOY_HASH);
  if (!user || !ok) {
    await recordLoginFailure(db, email, ip);
    return { error: "That e-mail and password do not match an account.", status: 401 };
  }
  await clearLoginFailures(db, email);
  return { user };
}
