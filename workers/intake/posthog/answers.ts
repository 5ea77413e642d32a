// What posthog-js asks for at start besides capture: its remote config, where every optional
// feature but flags is off (so it loads no other script), and the flags of `/flags/` and
// `/decide/`, which are the app's own evaluated at the edge (workers/flags/serve.ts).
import type { FlagValue } from "../../../schemas";

/** One flag's answer for the caller, as workers/flags evaluates it. */
export interface PostHogFlagInput {
  variant: string;
  value: FlagValue;
}

/** The remote config of `/array/<token>/config`: gzip accepted, flags when the app has some, every other optional feature off. */
export function remoteConfig(token: string, hasFeatureFlags = false): Record<string, unknown> {
  return {
    token,
    supportedCompression: ["gzip", "gzip-js"],
    hasFeatureFlags,
    captureDeadClicks: false,
    capturePerformance: false,
    autocapture_opt_out: false,
    autocaptureExceptions: false,
    analytics: { endpoint: "/e/" },
    elementsChainAsString: true,
    errorTracking: { autocaptureExceptions: false, suppressionRules: [] },
    sessionRecording: false,
    heatmaps: false,
    surveys: false,
    productTours: false,
    defaultIdentifiedOnly: true,
    siteApps: [],
  };
}

/** `/array/<token>/config.js`: the same config, as the script posthog-js loads by default. */
export function remoteConfigScript(token: string, hasFeatureFlags = false): string {
  const config = JSON.stringify(remoteConfig(token, hasFeatureFlags));
  return `(function(){var w=window;w._POSTHOG_REMOTE_CONFIG=w._POSTHOG_REMOTE_CONFIG||{};w._POSTHOG_REMOTE_CONFIG[${JSON.stringify(token)}]={config:${config},siteApps:[]};})();\n`;
}

// PostHog's flags are on or off, with a variant name when multivariate and a JSON payload. A
// flag here serves a JSON value: true is on, false and null are off, and any other value is on
// with its variant's key as PostHog's variant and the value as the payload.
function postHogFlag(key: string, a: PostHogFlagInput, index: number) {
  const enabled = a.value !== false && a.value !== null;
  const variant = enabled && a.value !== true ? a.variant : undefined;
  return {
    key,
    enabled,
    variant,
    reason: { code: enabled ? "condition_match" : "no_condition_match", description: `served variant ${a.variant}`, condition_index: null },
    metadata: { id: index + 1, version: 0, payload: variant === undefined ? undefined : JSON.stringify(a.value), description: undefined },
  };
}

/**
 * The answer to `/flags/` and `/decide/`: the app's flags for the caller in both the v2 shape
 * (`flags`) and the older one (`featureFlags`, `featureFlagPayloads`), with the remote config
 * fields `/decide/` carried.
 */
export function flagsAnswer(token: string, flags: Readonly<Record<string, PostHogFlagInput>> = {}): Record<string, unknown> {
  const details = Object.entries(flags).map(([key, a], i) => postHogFlag(key, a, i));
  return {
    ...remoteConfig(token, details.length > 0),
    flags: Object.fromEntries(details.map((d) => [d.key, d])),
    featureFlags: Object.fromEntries(details.map((d) => [d.key, d.variant ?? d.enabled])),
    featureFlagPayloads: Object.fromEntries(details.flatMap((d) => (d.metadata.payload === undefined ? [] : [[d.key, d.metadata.payload]]))),
    errorsWhileComputingFlags: false,
    quotaLimited: [],
    requestId: crypto.randomUUID(),
    config: { enable_collect_everything: true },
    toolbarParams: {},
    isAuthenticated: false,
  };
}
