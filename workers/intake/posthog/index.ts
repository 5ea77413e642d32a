import type { DoorBatch } from "../../ingest/ingest";
import { decodeCapture, type CaptureQuery } from "./decode";
import { translateCapture, type CaptureFacts } from "./translate";

export { decodeCapture, type CaptureQuery } from "./decode";
export { translateCapture, translateEvent, type CaptureFacts } from "./translate";
export { flagsAnswer, remoteConfig, remoteConfigScript } from "./answers";

/**
 * A PostHog capture request, its body already un-gzipped, as our events, envelope and key.
 * @example fromPostHog('{"api_key":"wk_1","batch":[{"event":"signed up","distinct_id":"u1"}]}', {}, { receivedAt: Date.now() })
 */
export function fromPostHog(body: string, query: CaptureQuery, facts: CaptureFacts): DoorBatch {
  return translateCapture(decodeCapture(body, query), facts);
}
