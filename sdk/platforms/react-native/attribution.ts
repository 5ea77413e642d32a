import type { Core } from "../../core/client";
import { CLICK_ID_PARAMS, campaignOf, type Campaign } from "../../core/campaign";
import type { Props, Storage } from "../../core/types";

/**
 * What brought an install, as an attribution provider (AppsFlyer's conversion data, Branch,
 * Adjust) or the store tells the app; every field optional:
 * `{provider: "AppsFlyer", source: "facebook", medium: "cpc", campaign: "spring-sale", adGroup: "lookalike-1", fbclid: "…"}`.
 */
export interface InstallAttribution {
  /** Who attributed it (Segment's `provider`): `"AppsFlyer"`, `"Branch"`, `"Google Play"`. */
  provider?: string;
  source?: string;
  medium?: string;
  /** The campaign's name. */
  campaign?: string;
  content?: string;
  term?: string;
  adGroup?: string;
  adCreative?: string;
  /** An install referrer as Google Play's Install Referrer API gives it (`"utm_source=google-play&utm_medium=organic"`): its parameters fill what the fields above leave out. */
  referrer?: string;
  /** Click ids under their URL parameter's name: `gclid`, `fbclid`, `ttclid`… */
  [clickId: string]: string | undefined;
}

/** The calls that pass on what the platform told the app about where its user came from. */
export interface AttributionCalls {
  /**
   * Records "Deep Link Opened" for a URL the app was opened with (`Linking.getInitialURL()`,
   * `Linking`'s `url` event, a push's link): `properties.url` (as given: strip secrets from sign-in
   * links first), `properties.referring_application` and `properties.provider` when given, and
   * the URL's UTM and click-id parameters as `context.campaign`, which makes it a touch of the session.
   * `Linking.addEventListener("url", ({url}) => t.deepLinkOpened(url))`
   */
  deepLinkOpened(url: string, options?: { referringApplication?: string; provider?: string }): void;
  /**
   * Records "Install Attributed" once per install (later calls do nothing, so it can be called at
   * every start): `properties.provider` and `properties.campaign` as Segment's mobile spec has
   * them (`source`, `name`, `medium`, `content`, `ad_group`, `ad_creative`), and the campaign
   * with its click ids as `context.campaign`, a touch of the session. A string is an install referrer.
   * `t.installAttributed({provider: "AppsFlyer", source: data.media_source, campaign: data.campaign})`, `t.installAttributed(details.installReferrer)`
   */
  installAttributed(attribution: InstallAttribution | string): void;
}

const defined = (o: Props): Props => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ""));

/** The attribution calls of a React Native client, whose install mark is kept in `storage` under `key`: `attributionCalls(core, storage, "et:installed")`. */
export function attributionCalls(c: Core, storage: Storage, key: string): AttributionCalls {
  const track = (event: string, properties: Props, campaign: Campaign | undefined, at: number): void =>
    c.trackWith(event, defined(properties), campaign ? { campaign } : {}, at);
  const firstCall = async (): Promise<boolean> => {
    if (await storage.get(key)) return false;
    await storage.set(key, String(Date.now()));
    return true;
  };
  return {
    deepLinkOpened: (url, { referringApplication, provider } = {}) => track("Deep Link Opened", { url, referring_application: referringApplication, provider }, campaignOf(url), Date.now()),
    installAttributed: (attribution) => {
      const at = Date.now();
      const given: InstallAttribution = typeof attribution === "string" ? { referrer: attribution } : attribution;
      const { provider, referrer, campaign: name, adGroup, adCreative, ...fields } = given;
      const own: Props = { source: fields.source, medium: fields.medium, name, term: fields.term, content: fields.content };
      for (const param of CLICK_ID_PARAMS) own[param] = fields[param];
      const campaign = { ...campaignOf(referrer ?? ""), ...(defined(own) as Campaign) };
      const properties = { provider, campaign: defined({ source: campaign.source, name: campaign.name, medium: campaign.medium, content: campaign.content, ad_group: adGroup, ad_creative: adCreative }) };
      // Better a second copy than no attribution at all when the mark cannot be read or kept.
      void firstCall()
        .catch(() => true)
        .then((first) => first && track("Install Attributed", properties, Object.keys(campaign).length ? campaign : undefined, at));
    },
  };
}
