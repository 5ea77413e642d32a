import { z } from "zod";

/** The dashboard views a schedule may export, by the name of their page (`insights/<type>` for an insight type). */
export const ExportView = z.enum([
  "overview",
  "events",
  "users",
  "sessions",
  "crashes",
  "performance",
  "network",
  "releases",
  "pipeline",
  "attribution",
  "insights/trends",
  "insights/funnels",
  "insights/retention",
  "insights/paths",
  "insights/stickiness",
]);
/** A view's name. */
export type ExportView = z.infer<typeof ExportView>;

/**
 * What a schedule exports for each period: the raw events (`{kind: "events"}`), a dashboard view
 * with its page's query string, its range replaced by the period's
 * (`{kind: "view", view: "users", query: "platform=ios&q=ana"}`), or a saved insight of the app
 * (`{kind: "insight", insightId: "ins_…"}`), as CSV or Parquet.
 */
export const ExportSource = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("events") }).strict(),
  z
    .object({
      kind: z.literal("view"),
      view: ExportView,
      // A pasted URL keeps only its query string.
      query: z
        .string()
        .max(2000)
        .default("")
        .transform((q) => (q.includes("?") ? q.slice(q.indexOf("?") + 1) : q).replace(/#.*$/, "").trim()),
    })
    .strict(),
  z.object({ kind: z.literal("insight"), insightId: z.string().min(1).max(64) }).strict(),
]);
/** What a schedule exports. */
export type ExportSource = z.infer<typeof ExportSource>;

/** `"csv"` (CSV with a header row) or `"parquet"`. */
export const ExportFormat = z.enum(["csv", "parquet"]);
/** `"csv"` or `"parquet"`. */
export type ExportFormat = z.infer<typeof ExportFormat>;

/** `"hourly"` (the previous full hour, UTC) or `"daily"` (the previous full day, UTC). */
export const ExportFrequency = z.enum(["hourly", "daily"]);
/** `"hourly"` or `"daily"`. */
export type ExportFrequency = z.infer<typeof ExportFrequency>;

const S3Fields = {
  kind: z.literal("s3"),
  /** The service's address: `https://s3.eu-west-1.amazonaws.com`, `https://<account>.r2.cloudflarestorage.com`. */
  endpoint: z.url({ protocol: /^https?$/, error: "endpoint must be an http(s) URL" }).max(500),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)"),
  region: z.string().regex(/^[a-z0-9-]{1,40}$/, "region is e.g. us-east-1 (auto for R2)").default("us-east-1"),
  accessKeyId: z.string().min(1).max(200),
  /** Prepended to every object key, e.g. `telemetry/`. */
  prefix: z.string().max(200).regex(/^[^\\]*$/).default(""),
};

/**
 * Where files go: the platform's bucket for the app's data location (`{kind: "r2"}`), or an
 * S3-compatible bucket with the caller's credentials:
 * `{kind: "s3", endpoint: "https://s3.eu-west-1.amazonaws.com", bucket: "acme-exports", region: "eu-west-1", accessKeyId: "AKIA…", secretAccessKey: "…"}`.
 * The secret is stored sealed and never returned.
 */
export const ExportDestinationInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("r2") }).strict(),
  z.object({ ...S3Fields, secretAccessKey: z.string().min(1).max(200) }).strict(),
]);
/** A destination as given by the caller. */
export type ExportDestinationInput = z.infer<typeof ExportDestinationInput>;

/** A destination as stored and listed: an S3 one without its secret. */
export type ExportDestination = { kind: "r2" } | z.output<z.ZodObject<typeof S3Fields>>;

/** `POST …/exports`: `{name: "Daily events", source: {kind: "events"}, format: "parquet", frequency: "daily", destination: {kind: "r2"}}`. */
export const CreateExport = z
  .object({
    name: z.string().trim().min(1, "name is required").max(100),
    source: ExportSource.default({ kind: "events" }),
    format: ExportFormat,
    frequency: ExportFrequency,
    destination: ExportDestinationInput.default({ kind: "r2" }),
    enabled: z.boolean().default(true),
  })
  .strict();
/** The body of creating a schedule. */
export type CreateExport = z.infer<typeof CreateExport>;

/** `PATCH …/exports/:id`: any of `{name, format, frequency, destination, enabled}`. */
export const UpdateExport = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    source: ExportSource.optional(),
    format: ExportFormat.optional(),
    frequency: ExportFrequency.optional(),
    destination: ExportDestinationInput.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
/** The body of changing a schedule. */
export type UpdateExport = z.infer<typeof UpdateExport>;

/** A schedule as listed: `{id: "exp_…", appId, name, source, format, frequency, destination, enabled, …}`. */
export interface ExportSchedule {
  id: string;
  appId: string;
  name: string;
  source: ExportSource;
  format: ExportFormat;
  frequency: ExportFrequency;
  destination: ExportDestination;
  enabled: boolean;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
}

/** A run's state: waiting, running, done, failed and to be tried again, or failed for good. */
export type ExportRunStatus = "pending" | "running" | "ok" | "retrying" | "failed";

/** One period of a schedule, as logged: `{status: "ok", rows: 1200, bytes: 48211, objectKey: "exports/app_shop/exp_…/2026-12-01T10.csv", …}`. */
export interface ExportRun {
  id: string;
  scheduleId: string;
  appId: string;
  periodStart: number;
  periodEnd: number;
  status: ExportRunStatus;
  attempts: number;
  nextAttemptAt: number | null;
  rows: number | null;
  bytes: number | null;
  objectKey: string | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/** `POST …/exports/:id/run`: the period to (re-)export, by its start (ISO 8601); the latest full period when absent. */
export const RunExport = z.object({ periodStart: z.iso.datetime({ offset: true }).optional() }).strict();
/** The body of running a schedule now. */
export type RunExport = z.infer<typeof RunExport>;

/**
 * The webhook body of a scheduled export that failed for good (every attempt of its period):
 * `{type: "export.failed", version: 1, id: "msg_…", occurredAt, app: {id, name},
 *   export: {id: "exp_…", name: "Daily events", format: "parquet", frequency: "daily"},
 *   run: {id: "exr_…", periodStart, periodEnd, attempts: 4, error: "PUT …: HTTP 403 AccessDenied"}, links: {export: "https://…"}}`
 */
export const ExportFailedBody = z.object({
  type: z.literal("export.failed"),
  version: z.literal(1),
  id: z.string().min(1),
  occurredAt: z.iso.datetime(),
  app: z.object({ id: z.string(), name: z.string() }),
  export: z.object({ id: z.string(), name: z.string(), format: ExportFormat, frequency: ExportFrequency }),
  run: z.object({ id: z.string(), periodStart: z.iso.datetime(), periodEnd: z.iso.datetime(), attempts: z.number().int(), error: z.string() }),
  links: z.object({ export: z.url() }),
});
/** The webhook body of a failed export. */
export type ExportFailedBody = z.infer<typeof ExportFailedBody>;
