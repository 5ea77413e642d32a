// Secrets the Worker keeps in D1 but must not be readable from D1 alone (OAuth signing keys,
// export credentials): AES-GCM under a key derived (HKDF) from a Worker secret, one derived key
// per purpose, and the row's id as additional data so a sealed value cannot be moved to another row.

const enc = new TextEncoder();
const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
function unb64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const keys = new Map<string, Promise<CryptoKey>>();
function sealKey(secret: string, purpose: string): Promise<CryptoKey> {
  const id = `${purpose}\n${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", enc.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: enc.encode(purpose), info: new Uint8Array() }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    })();
    keys.set(id, key);
  }
  return key;
}

/** `plain` sealed for `purpose` and bound to `rowId`, as `<iv>.<ciphertext>` in base64. */
export async function seal(secret: string, purpose: string, rowId: string, plain: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(rowId) }, await sealKey(secret, purpose), enc.encode(plain));
  return `${b64(iv)}.${b64(new Uint8Array(data))}`;
}

/** What {@link seal} sealed; throws when the secret, purpose or row differ. */
export async function unseal(secret: string, purpose: string, rowId: string, sealed: string): Promise<string> {
  const [iv, data] = sealed.split(".");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(iv ?? ""), additionalData: enc.encode(rowId) }, await sealKey(secret, purpose), unb64(data ?? ""));
  return new TextDecoder().decode(plain);
}
