// The package's platform-free entry: the core and its types. Apps import a platform instead:
// `sdk/platforms/browser` (also the script tag's `Telemetry` global), `…/node`, `…/react-native`.
export * from "./core/index";
export { VERSION } from "./core/version";
