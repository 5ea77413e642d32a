// The keys access tokens are signed with: ES256 pairs kept in D1 (0018_api_clients.sql), the
// private half sealed with AES-GCM under a key derived (HKDF) from the OAUTH_KEY_SECRET secret.
// The newest key signs; it is replaced once it is ROTATE_AFTER_MS old, and a replaced key stays
// published until every token it signed has expired. Isolates keep the keys they read for a
// minute, so signing and verifying cost no D1 read per request.
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { randomHex } from "../apps/keys";
import { seal, unseal } from "../lib/seal";

export const ROTATE_AFTER_MS = 30 * 86_400_000;
/** How long a replaced key stays published: longer than any token lives. */
export const PUBLISHED_AFTER_RETIRING_MS = 86_400_000;
const CACHE_MS = 60_000;
const ALG = "ES256";

interface KeyRow {
  kid: string;
  public_jwk: string;
  sealed_jwk: string;
  created_at: number;
  retire_at: number | null;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  createdAt: number;
}

// The HKDF salt of these keys: unchanged, so keys sealed before stay readable.
const PURPOSE = "edge-telemetry oauth signing keys";
const sealJwk = (secret: string, kid: string, jwk: JWK): Promise<string> => seal(secret, PURPOSE, kid, JSON.stringify(jwk));
const unsealJwk = async (secret: string, kid: string, sealed: string): Promise<JWK> => JSON.parse(await unseal(secret, PURPOSE, kid, sealed)) as JWK;

let held: { rows: KeyRow[]; until: number } | null = null;
const imported = new Map<string, Promise<CryptoKey>>();

async function rows(db: D1Database, now: number): Promise<KeyRow[]> {
  if (held && held.until > now) return held.rows;
  const { results } = await db.prepare("SELECT kid, public_jwk, sealed_jwk, created_at, retire_at FROM oauth_signing_keys WHERE retire_at IS NULL OR retire_at > ? ORDER BY created_at DESC").bind(now).all<KeyRow>();
  held = { rows: results, until: now + CACHE_MS };
  return results;
}

/** Forgets the keys this isolate holds, for tests that rotate them. */
export function clearSigningKeyCache(): void {
  held = null;
  imported.clear();
}

async function create(db: D1Database, secret: string, now: number, replacing: KeyRow | undefined): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = `k_${randomHex(8)}`;
  const pub = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
  const statements = [db.prepare("INSERT INTO oauth_signing_keys (kid, public_jwk, sealed_jwk, created_at) VALUES (?, ?, ?, ?)").bind(kid, JSON.stringify(pub), await sealJwk(secret, kid, await exportJWK(privateKey)), now)];
  if (replacing) statements.push(db.prepare("UPDATE oauth_signing_keys SET retire_at = ? WHERE kid = ? AND retire_at IS NULL").bind(now + PUBLISHED_AFTER_RETIRING_MS, replacing.kid));
  await db.batch(statements);
  held = null;
}

/** The key that signs now, made (or replaced, when ROTATE_AFTER_MS old) as needed. */
export async function signingKey(db: D1Database, secret: string, now = Date.now()): Promise<SigningKey> {
  let current = (await rows(db, now)).find((r) => r.retire_at === null);
  if (!current || now - current.created_at >= ROTATE_AFTER_MS) {
    await create(db, secret, now, current);
    current = (await rows(db, now)).find((r) => r.retire_at === null);
    if (!current) throw new Error("no OAuth signing key after creating one");
  }
  const row = current;
  let privateKey = imported.get(row.kid);
  if (!privateKey) {
    privateKey = (async () => {
      const key = await importJWK(await unsealJwk(secret, row.kid, row.sealed_jwk), ALG);
      if (!(key instanceof CryptoKey)) throw new Error("an OAuth signing key did not import as a CryptoKey");
      return key;
    })();
    if (imported.size > 16) imported.clear();
    imported.set(row.kid, privateKey);
    privateKey.catch(() => imported.delete(row.kid));
  }
  return { kid: row.kid, privateKey: await privateKey, createdAt: row.created_at };
}

/** The public keys tokens may be verified with: the JWKS document. */
export async function publishedKeys(db: D1Database, now = Date.now()): Promise<{ keys: JWK[] }> {
  return { keys: (await rows(db, now)).map((r) => JSON.parse(r.public_jwk) as JWK) };
}
