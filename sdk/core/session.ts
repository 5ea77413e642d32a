import { uuid } from "./ids";

/** A session as stored: its id and the time of its last event, e.g. `{id: "3b24…", last: 1764000000000}`. */
export interface SessionState {
  id: string;
  last: number;
}

/**
 * The session an event at `now` belongs to: the current one, or a new one after `timeoutMs`
 * without events. `touchSession(undefined, Date.now(), 1_800_000).id // a fresh id`
 */
export function touchSession(state: SessionState | undefined, now: number, timeoutMs: number): SessionState {
  const id = state && now - state.last <= timeoutMs ? state.id : uuid();
  return { id, last: Math.max(now, state?.last ?? 0) };
}
