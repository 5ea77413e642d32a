/** A random v4 UUID, from `crypto` where the platform has it: `uuid() // "3b241101-e2bb-4255-8caf-4136c566a962"`. */
export function uuid(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  // randomUUID exists only in secure contexts; getRandomValues everywhere but old React Native.
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof c?.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = (Math.random() * 256) | 0;
  let i = 0;
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (ch) => {
    const r = (bytes[i++ & 15] ?? 0) & 15;
    return (ch === "x" ? r : (r & 3) | 8).toString(16);
  });
}
