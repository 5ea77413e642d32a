import type { Context } from "../../schemas";

/** A campaign as events carry it in `context.campaign`: UTM fields by Segment's names, click ids by their parameter's, e.g. `{source: "newsletter", medium: "email", gclid: "abc123"}`. */
export type Campaign = NonNullable<Context["campaign"]>;

// The vocabulary is schemas/touchpoints.ts, but bundles may load nothing outside sdk/ (dev/build-sdk.ts
// refuses it): the SDK keeps the parameter names alone, and campaign.test.ts holds them equal to it.
/** The UTM parameters and the `context.campaign` field each fills: `UTM.utm_campaign // "name"`. */
export const UTM: Readonly<Record<string, string>> = { utm_source: "source", utm_medium: "medium", utm_campaign: "name", utm_term: "term", utm_content: "content" };
/** Ad networks' click-id parameters, kept under their own name in `context.campaign`: `CLICK_ID_PARAMS.includes("gclid")`. */
export const CLICK_ID_PARAMS: readonly string[] = "gclid gbraid wbraid dclid msclkid fbclid ttclid li_fat_id twclid sccid rdt_cid epik yclid".split(" ");

// A campaign rides on every later event of its session: a huge value would push them all past the edge's 32 KB.
const MAX_VALUE = 256;

/**
 * The campaign in a URL's query, or in a bare query string (an install referrer), or undefined
 * when it has no UTM or click-id parameter. Fields come in one order whatever the URL's.
 * `campaignOf("https://shop.example/?utm_source=newsletter&gclid=abc123") // {source: "newsletter", gclid: "abc123"}`
 */
export function campaignOf(url: string): Campaign | undefined {
  // Parsed by hand: React Native's URLSearchParams cannot read.
  const q: Record<string, string> = {};
  for (const pair of url.slice(url.indexOf("?") + 1).split("#")[0]?.split("&") ?? []) {
    const eq = pair.indexOf("=");
    const key = pair.slice(0, eq);
    let value = pair.slice(eq + 1).replace(/\+/g, " ");
    try {
      value = decodeURIComponent(value);
    } catch {
      // A stray "%": keep the text as it came.
    }
    if (eq > 0 && value) q[key] ??= value.slice(0, MAX_VALUE);
  }
  let campaign: Campaign | undefined;
  for (const param of [...Object.keys(UTM), ...CLICK_ID_PARAMS]) {
    const value = q[param];
    if (value) (campaign ??= {})[UTM[param] ?? param] = value;
  }
  return campaign;
}
