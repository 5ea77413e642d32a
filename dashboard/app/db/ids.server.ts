// Random ids and SHA-256 hex come from the shared apps module, which stores write keys the same way.
export { randomHex, sha256Hex } from "../../../workers/apps/keys";
