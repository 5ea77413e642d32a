import type { Context } from "../../schemas";
import type { Campaign } from "./campaign";
import { uuid } from "./ids";

/**
 * A campaign that brought the user, when (ms), and the page they came from when it was another
 * site's: `{source: "newsletter", medium: "email", name: "black-friday", gclid: "abc123", at: 1764000000000, referrer: "https://mail.example.com/"}`.
 */
export interface Touch {
  source?: string;
  medium?: string;
  name?: string;
  term?: string;
  content?: string;
  at: number;
  referrer?: string;
  /** Click ids, by their URL parameter's name. */
  [clickId: string]: string | number | undefined;
}

/** A session as stored: its id, the time of its last event and its first and last touches, e.g. `{id: "3b24…", last: 1764000000000}`. */
export interface SessionState {
  id: string;
  last: number;
  touches?: { first: Touch; last: Touch };
}

/**
 * The session an event at `now` belongs to: the current one (touches and all), or a new one
 * after `timeoutMs` without events. `touchSession(undefined, Date.now(), 1_800_000).id // a fresh id`
 */
export function touchSession(state: SessionState | undefined, now: number, timeoutMs: number): SessionState {
  return state && now - state.last <= timeoutMs ? { ...state, last: Math.max(now, state.last) } : { id: uuid(), last: now };
}

const host = (url?: string): string | undefined => url?.split("/")[2];
const campaignFields = ({ at, referrer, ...campaign }: Touch): Campaign => campaign as Campaign;

/**
 * Takes the context of an event (or of a page's start) at `at` into `session`'s touches: a
 * campaign of its own is a touch, the session's last and, if none came before, its first (the
 * same campaign again changes nothing); a context without one is given the session's last touch,
 * so that a conversion later in the session knows its campaign.
 * `noteTouch(session, {campaign: {source: "newsletter"}, page: {url, referrer}}, Date.now())`
 */
export function noteTouch(session: SessionState, context: Context, at: number): void {
  const touches = session.touches;
  const campaign = context.campaign;
  if (!campaign) {
    if (touches) context.campaign = campaignFields(touches.last);
    return;
  }
  if (touches && JSON.stringify(campaignFields(touches.last)) === JSON.stringify(campaign)) return;
  const touch: Touch = { ...campaign, at };
  const referrer = context.page?.referrer;
  if (referrer && host(referrer) !== host(context.page?.url)) touch.referrer = referrer;
  session.touches = { first: touches?.first ?? touch, last: touch };
}
