import type { Context } from "../../../schemas";
import { campaignOf } from "../../core/campaign";
import type { Storage } from "../../core/types";
import { memoryStorage } from "../../core/storage";
import type { Win } from "./dom";

let timezone: string | undefined;

/** The context of an event on a page, read at the moment of the event: `pageContext(window).page.path`. */
export function pageContext(w: Win): Context {
  const { location: l, document: d, navigator: n, screen: s } = w;
  const ctx: Context = {
    page: { path: l.pathname, url: l.href, search: l.search, title: d.title, referrer: d.referrer },
    userAgent: n.userAgent,
    locale: n.language,
    // Resolving it costs more than the rest of the context together; it does not change.
    timezone: (timezone ??= Intl.DateTimeFormat().resolvedOptions().timeZone),
  };
  if (s) ctx.screen = { width: s.width, height: s.height, density: w.devicePixelRatio ?? 1 };
  const campaign = campaignOf(l.search);
  if (campaign) ctx.campaign = campaign;
  return ctx;
}

/** `localStorage`, or memory where it is missing or refused (private modes, sandboxed frames): `localStore(window)`. */
export function localStore(w: Win): Storage {
  try {
    const ls = w.localStorage;
    if (!ls) return memoryStorage();
    ls.setItem("et:probe", "1");
    ls.removeItem("et:probe");
    return { get: (k) => ls.getItem(k), set: (k, v) => ls.setItem(k, v), remove: (k) => ls.removeItem(k) };
  } catch {
    return memoryStorage();
  }
}
