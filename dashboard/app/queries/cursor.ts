// Keyset positions for the events explorer, shared by its loader and the page's live tail.

/** Position in the newest-first order: `<epoch ms>_<message id>`. */
export interface Cursor {
  ts: number;
  id: string;
}

export const cursorOf = (r: { ts: number; messageId: string }): string => `${r.ts}_${r.messageId}`;

export function parseCursor(raw: string | null): Cursor | null {
  const m = raw ? /^(\d{1,15})_(.*)$/s.exec(raw) : null;
  return m?.[1] !== undefined && m[2] !== undefined ? { ts: Number(m[1]), id: m[2] } : null;
}
