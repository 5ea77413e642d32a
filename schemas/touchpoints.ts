// What marks a touchpoint, shared by the SDKs (which capture it) and the attribution report (which
// reads it back from stored events). Kept free of zod so the browser SDK can import it whole.

/** The UTM parameters and the `context.campaign` field each fills (Segment's names). */
export const UTM_FIELDS: ReadonlyArray<readonly [param: string, field: "source" | "medium" | "name" | "term" | "content"]> = [
  ["utm_source", "source"],
  ["utm_medium", "medium"],
  ["utm_campaign", "name"],
  ["utm_term", "term"],
  ["utm_content", "content"],
];

/**
 * Ad networks' click ids: the URL parameter, and the source and medium a click carrying it comes
 * from when the URL names no `utm_source`. They ride in `context.campaign` under the parameter's
 * own name (`{ gclid: "…" }`). Click ids identify a click, not a person: they are not redacted.
 */
export const CLICK_IDS: ReadonlyArray<{ param: string; source: string; medium: string }> = [
  { param: "gclid", source: "google", medium: "cpc" },
  { param: "gbraid", source: "google", medium: "cpc" },
  { param: "wbraid", source: "google", medium: "cpc" },
  { param: "dclid", source: "google", medium: "display" },
  { param: "msclkid", source: "bing", medium: "cpc" },
  { param: "fbclid", source: "facebook", medium: "social" },
  { param: "ttclid", source: "tiktok", medium: "cpc" },
  { param: "li_fat_id", source: "linkedin", medium: "cpc" },
  { param: "twclid", source: "twitter", medium: "cpc" },
  { param: "sccid", source: "snapchat", medium: "cpc" },
  { param: "rdt_cid", source: "reddit", medium: "cpc" },
  { param: "epik", source: "pinterest", medium: "cpc" },
  { param: "yclid", source: "yandex", medium: "cpc" },
];

/** Events that are touchpoints of their own (Segment's mobile spec names the first two); the rest are ordinary events. */
export const TOUCH_EVENTS = {
  installAttributed: "Install Attributed",
  deepLinkOpened: "Deep Link Opened",
  adClicked: "Ad Clicked",
  /** An impression: a view-through touchpoint, which counts only when no click does. */
  adViewed: "Ad Viewed",
} as const;
