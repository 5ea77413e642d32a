import { z } from "zod";

/**
 * One per-app URL template override, tried in order before the automatic templating of network
 * paths (and page paths): segments are literals, `:name` (any one segment, shown as `:name`),
 * `*` (any one segment, kept as sent: stops a meaningful segment being collapsed) or a final
 * `**` (the rest of the path, shown as `**`). `"/api/orgs/:org/files/**"`
 */
export const UrlTemplate = z
  .string()
  .trim()
  .min(2)
  .max(512)
  .regex(/^\/[^\s?#]*$/, "a template is a path starting with / without spaces, query or fragment")
  .refine((t) => !t.split("/").slice(0, -1).includes("**"), "** may only end a template");
/** The most URL templates an app may set: each network call is checked against all of them. */
export const MAX_URL_TEMPLATES = 100;
/** An app's URL template list, in the order they are tried. */
export const UrlTemplates = z.array(UrlTemplate).max(MAX_URL_TEMPLATES);
