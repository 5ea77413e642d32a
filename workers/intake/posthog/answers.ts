// What posthog-js asks for at start besides capture. Flags and remote config are not served
// through this door yet: every answer says "nothing enabled", in the shapes the library reads,
// so it starts cleanly, sends only events, and loads no other script.

/** The remote config of `/array/<token>/config`: gzip accepted, every optional feature off. */
export function remoteConfig(token: string): Record<string, unknown> {
  return {
    token,
    supportedCompression: ["gzip", "gzip-js"],
    hasFeatureFlags: false,
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
export function remoteConfigScript(token: string): string {
  const config = JSON.stringify(remoteConfig(token));
  return `(function(){var w=window;w._POSTHOG_REMOTE_CONFIG=w._POSTHOG_REMOTE_CONFIG||{};w._POSTHOG_REMOTE_CONFIG[${JSON.stringify(token)}]={config:${config},siteApps:[]};})();\n`;
}

/**
 * The answer to `/flags/` and `/decide/`: no flag on, in both the v2 shape (`flags`) and the
 * older one (`featureFlags`), with the remote config fields `/decide/` carried.
 */
export function flagsAnswer(token: string): Record<string, unknown> {
  return {
    ...remoteConfig(token),
    flags: {},
    featureFlags: {},
    featureFlagPayloads: {},
    errorsWhileComputingFlags: false,
    quotaLimited: [],
    requestId: crypto.randomUUID(),
    config: { enable_collect_everything: true },
    toolbarParams: {},
    isAuthenticated: false,
  };
}
