import type { Storage } from "./types";

/** A storage that lives as long as the process: Node's default, and the fallback where nothing else works: `memoryStorage()`. */
export function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get: (key) => map.get(key) ?? null,
    set: (key, value) => map.set(key, value),
    remove: (key) => map.delete(key),
  };
}
