import type { Storage, WireEvent } from "./types";

/** The bounded event queue, oldest first; see `createQueue`. */
export interface Queue {
  readonly items: readonly WireEvent[];
  push(event: WireEvent): void;
  /** Forgets events that were sent or given up on. */
  remove(events: readonly WireEvent[]): void;
  /** Empties the queue and its stored copy (opt-out). */
  clear(): Promise<void>;
  /** Adds the events a previous run (or another tab) left in storage, before this run's. */
  load(): Promise<void>;
  /** Writes the queue to storage once the current burst of calls is over. */
  save(): void;
}

function parse(text: string | null | undefined): WireEvent[] {
  try {
    const value: unknown = JSON.parse(text ?? "[]");
    return Array.isArray(value) ? (value as WireEvent[]) : [];
  } catch {
    return [];
  }
}

/**
 * A queue of at most `max` events that drops the oldest and says so. With a storage it
 * survives restarts: each save merges what is stored (another tab of the same app shares it)
 * with this queue, minus what this queue sent or dropped since the last save, so two tabs
 * never erase each other's unsent events. Events both tabs hold are sent twice at worst, and
 * the edge keeps one (messageIds are deduplicated for 24 hours).
 * `createQueue(null, "et:q", 1000, console.warn)`
 */
export function createQueue(storage: Storage | null, key: string, max: number, warn: (message: string) => void): Queue {
  let items: WireEvent[] = [];
  let gone = new Set<string>();
  let saving = false;

  const bound = (list: WireEvent[]): WireEvent[] => {
    const over = list.length - max;
    if (over <= 0) return list;
    warn(`queue full: dropped the ${over} oldest event(s)`);
    for (const e of list.slice(0, over)) gone.add(e.messageId);
    return list.slice(over);
  };

  const merged = (stored: WireEvent[]): WireEvent[] => {
    const mine = new Set(items.map((e) => e.messageId));
    return stored.filter((e) => !mine.has(e.messageId) && !gone.has(e.messageId)).concat(items);
  };

  const write = async (): Promise<void> => {
    saving = false;
    if (!storage) return;
    try {
      const list = merged(parse(await storage.get(key))).slice(-max);
      gone = new Set();
      await (list.length ? storage.set(key, JSON.stringify(list)) : storage.remove(key));
    } catch (err) {
      warn(`could not store the queue: ${String(err)}`);
    }
  };

  return {
    get items() {
      return items;
    },
    push(event) {
      items.push(event);
      if (items.length > max) items = bound(items);
    },
    remove(events) {
      const ids = new Set(events.map((e) => e.messageId));
      for (const id of ids) gone.add(id);
      items = items.filter((e) => !ids.has(e.messageId));
    },
    async clear() {
      items = [];
      gone = new Set();
      await storage?.remove(key);
    },
    async load() {
      if (storage) items = bound(merged(parse(await storage.get(key))));
    },
    save() {
      if (saving || !storage) return;
      saving = true;
      // One write per burst of events rather than one per event.
      void Promise.resolve().then(write);
    },
  };
}
