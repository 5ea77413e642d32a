import { checkWebhookUrl } from "../alerts/webhooks/url-guard";

/** Whether an S3 endpoint may be called: the webhook URL guard's rules (no private networks), and its base URL without a trailing slash. */
export function checkS3Endpoint(endpoint: string, opts: { localMode?: boolean } = {}): { ok: true; base: string } | { ok: false; reason: string } {
  const checked = checkWebhookUrl(endpoint, opts);
  return checked.ok ? { ok: true, base: checked.url.toString().replace(/\/+$/, "") } : { ok: false, reason: `endpoint: ${checked.reason}` };
}
