import { z } from "zod";

/** The built-in PII detectors, e.g. `"email"`. */
export const DETECTORS = ["url_secret", "token", "email", "iban", "card", "national_id", "ip", "phone"] as const;
/** One PII detector, e.g. `"card"` (payment card numbers, Luhn-checked). */
export type Detector = (typeof DETECTORS)[number];

/** How the client IP address is kept: `"truncate"` keeps `203.0.113.0` of `203.0.113.77`. */
export const IpMode = z.enum(["drop", "truncate", "keep"]);
/** How the client IP is kept. */
export type IpMode = z.infer<typeof IpMode>;

/** What happens to a detected value: masked (`[email]`), salted-hashed (`[email:3f9a…]`) or dropped. */
export const RedactAction = z.enum(["mask", "hash", "drop"]);
/** What happens to a detected value. */
export type RedactAction = z.infer<typeof RedactAction>;

/**
 * An app's redaction policy as stored in D1 (`apps.redaction_policy`), e.g.
 * `{detectors: ["email", "card"], action: "hash", extraKeys: ["dob"], ip: "drop"}`.
 * Missing fields take the defaults: every detector, mask, no extra keys, truncated IPs.
 */
export const RedactionPolicy = z.object({
  detectors: z.array(z.enum(DETECTORS)).default([...DETECTORS]),
  action: RedactAction.default("mask"),
  extraKeys: z.array(z.string().min(1).max(128)).max(200).default([]),
  ip: IpMode.default("truncate"),
});
/** An app's redaction policy. */
export type RedactionPolicy = z.infer<typeof RedactionPolicy>;

/** The policy of an app that has not set one: everything on, values masked, IPs truncated. */
export const DEFAULT_POLICY: RedactionPolicy = Object.freeze({ detectors: [...DETECTORS], action: "mask", extraKeys: [], ip: "truncate" });
