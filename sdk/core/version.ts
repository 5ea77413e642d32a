/** The SDK's version, sent as `context.library.version`: `VERSION === "0.1.0"`. Keep in step with sdk/package.json. */
export const VERSION = "0.1.0";
