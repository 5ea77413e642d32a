// The API described as OpenAPI 3.1, served at `GET /openapi.json`. Request and answer bodies
// come from the zod schemas the routes validate with, so the document cannot drift from what
// the routes accept; the routes themselves are listed here by hand, and a test checks each
// listed path answers on the Worker.
import { z } from "zod";
import { AlertRuleSchema, BatchRequest, BatchResponse, CreateApp, CreateExport, CreateWebhookEndpoint, CreateWriteKey, Flag, API_SCOPES, RunExport, UpdateExport } from "../../schemas";
import { LakeReplay, LakeReplayResult } from "../../schemas/lake";
import { CallerInput } from "../flags/serve";
import { queryApiPaths } from "./openapi-query";

type Json = Record<string, unknown>;

// Each zod schema becomes a component; its own $defs (a recursive type's parts) become
// components beside it, so every $ref resolves from the document's root.
let components: Record<string, Json> = {};
const names = new Map<z.ZodType, string>();

function schema(s: z.ZodType): Json {
  const name = names.get(s);
  if (!name) return z.toJSONSchema(s, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Json;
  if (!components[name]) {
    const { $defs, $schema: _, ...body } = z.toJSONSchema(s, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Json & { $defs?: Record<string, Json> };
    const rewrite = (v: Json): Json => JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', `"#/components/schemas/${name}_`)) as Json;
    components[name] = rewrite(body);
    for (const [k, v] of Object.entries($defs ?? {})) components[`${name}_${k}`] = rewrite(v);
  }
  return { $ref: `#/components/schemas/${name}` };
}
const jsonBody = (s: Json | z.ZodType, description?: string): Json => ({ required: true, ...(description ? { description } : {}), content: { "application/json": { schema: s instanceof z.ZodType ? schema(s) : s } } });
const ok = (description: string, s?: Json | z.ZodType): Json => ({ description, ...(s ? { content: { "application/json": { schema: s instanceof z.ZodType ? schema(s) : s } } } : {}) });
const ERROR = { $ref: "#/components/schemas/Error" };
const errors = (...codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? "error", content: { "application/json": { schema: ERROR } } }]));
const ERROR_TEXT: Record<number, string> = { 400: "the request is not valid: the message says what", 401: "no or a wrong credential", 403: "the credential may not do this", 404: "no such resource (or not the caller's)", 409: "a conflict: the message says with what", 413: "too large", 429: "too many requests: see Retry-After", 503: "a dependency did not answer: see Retry-After" };
const ANY_OBJECT = { type: "object", additionalProperties: true };
const appParam = { name: "app", in: "path", required: true, schema: { type: "string" }, description: "the app's id, e.g. app_shop" };
const exportParam = { name: "id", in: "path", required: true, schema: { type: "string" }, description: "the export's id, e.g. exp_…" };
const keyParam = { name: "key", in: "path", required: true, schema: { type: "string" }, description: "the flag's key" };
const ADMIN_SECURITY = [{ adminToken: [] }, { oauth: [] }];
const WRITE_KEY_SECURITY = [{ writeKeyBasic: [] }, { writeKeyHeader: [] }, { writeKeyQuery: [] }];

function admin(summary: string, permission: string | null, extra: Json = {}): Json {
  return { summary, tags: ["admin"], security: ADMIN_SECURITY, "x-required-scope": permission ?? "operator only", responses: { "200": ok("done", ANY_OBJECT), ...errors(400, 401, 403, 404) }, ...extra };
}

let built: string | undefined;

/** The document as JSON text, built once per isolate. */
export function openApiJson(): string {
  built ??= JSON.stringify(openApiDocument());
  return built;
}

/** The OpenAPI document of the edge Worker's API and the dashboard's query API. */
export function openApiDocument(): Json {
  components = {};
  names.clear();
  for (const [s, name] of [[BatchRequest, "BatchRequest"], [BatchResponse, "BatchResponse"], [CallerInput, "Caller"], [CreateApp, "CreateApp"], [CreateWriteKey, "CreateWriteKey"], [AlertRuleSchema, "AlertRule"], [CreateWebhookEndpoint, "CreateWebhookEndpoint"], [Flag, "Flag"], [CreateExport, "CreateExport"], [UpdateExport, "UpdateExport"]] as const) names.set(s, name);
  const paths = buildPaths();
  return {
    openapi: "3.1.0",
    info: { title: "edge-telemetry API", version: "1", description: "Ingest (Segment's spec), remote configuration and flags, the admin API, OAuth 2.0 client credentials, and the dashboard's query API." },
    servers: [{ url: "/", description: "the edge Worker" }],
    components: {
      securitySchemes: {
        writeKeyBasic: { type: "http", scheme: "basic", description: "the write key as the Basic user, no password" },
        writeKeyHeader: { type: "apiKey", in: "header", name: "X-Write-Key" },
        writeKeyQuery: { type: "apiKey", in: "query", name: "writeKey" },
        adminToken: { type: "http", scheme: "bearer", description: "the operator's ADMIN_TOKEN" },
        oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "/oauth/token", scopes: Object.fromEntries(API_SCOPES.map((p) => [p, `the ${p} permission`])) } } },
      },
      schemas: {
        Error: { type: "object", required: ["error"], properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } } } },
        ...components,
      },
    },
    paths,
  };
}

function buildPaths(): Json {
  return {
      "/v1/batch": { post: { summary: "send up to 2,500 events", tags: ["ingest"], security: WRITE_KEY_SECURITY, requestBody: jsonBody(BatchRequest), responses: { "200": ok("accepted, duplicates and rejected events", BatchResponse), ...errors(400, 401, 413, 429, 503) } } },
      "/v1/{type}": {
        post: {
          summary: "send one event of the route's type (track, page, screen, identify, alias, group, crash, perf, network)",
          tags: ["ingest"],
          security: WRITE_KEY_SECURITY,
          parameters: [{ name: "type", in: "path", required: true, schema: { enum: ["track", "page", "screen", "identify", "alias", "group", "crash", "perf", "network"] } }],
          requestBody: jsonBody(ANY_OBJECT),
          responses: { "200": ok("as for /v1/batch", BatchResponse), ...errors(400, 401, 413, 429, 503) },
        },
      },
      "/v1/config": {
        get: {
          summary: "the app's SDK switches, configuration and flags evaluated for the caller",
          tags: ["flags"],
          security: WRITE_KEY_SECURITY,
          parameters: [
            ...["userId", "anonymousId", "platform", "os", "appVersion", "locale"].map((name) => ({ name, in: "query", schema: { type: "string", maxLength: 200 } })),
            { name: "traits", in: "query", schema: { type: "string", maxLength: 8192 }, description: "a JSON object" },
          ],
          responses: { "200": ok("the answer, with an ETag"), "304": { description: "unchanged since If-None-Match" }, ...errors(400, 401) },
        },
      },
      "/v1/flags": { post: { summary: "the same answer for a caller in the body", tags: ["flags"], security: WRITE_KEY_SECURITY, requestBody: jsonBody(CallerInput), responses: { "200": ok("the answer, with an ETag"), "304": { description: "unchanged since If-None-Match" }, ...errors(400, 401) } } },
      "/health": { get: { summary: "the Worker answers", tags: ["operations"], responses: { "200": ok("ok") } } },
      "/ready": { get: { summary: "D1, the queue and ClickHouse are reachable and no shard is stale", tags: ["operations"], responses: { "200": ok("ready"), "503": ok("a check failed") } } },
      "/oauth/token": {
        post: {
          summary: "an access token for an API client (RFC 6749 §4.4)",
          tags: ["oauth"],
          requestBody: { required: true, content: { "application/x-www-form-urlencoded": { schema: { type: "object", required: ["grant_type"], properties: { grant_type: { const: "client_credentials" }, scope: { type: "string" }, client_id: { type: "string" }, client_secret: { type: "string" } } } } } },
          responses: { "200": ok("the token", { type: "object", properties: { access_token: { type: "string" }, token_type: { const: "Bearer" }, expires_in: { type: "integer" }, scope: { type: "string" } } }), "400": { description: "invalid_request, unsupported_grant_type or invalid_scope" }, "401": { description: "invalid_client" }, "503": { description: "OAuth is off on this deployment" } },
        },
      },
      "/.well-known/jwks.json": { get: { summary: "the keys access tokens are signed with", tags: ["oauth"], responses: { "200": ok("a JWK set") } } },
      "/admin/apps": { get: admin("the caller's apps", "data:read"), post: admin("create an app", "app:create", { requestBody: jsonBody(CreateApp) }) },
      "/admin/apps/{app}": { parameters: [appParam], get: admin("an app and its write keys' prefixes", "data:read"), delete: admin("delete an app and its data", "app:delete") },
      "/admin/apps/{app}/shards": { parameters: [appParam], get: admin("each batcher shard's backlog and counters", "data:read") },
      "/admin/apps/{app}/url-templates": { parameters: [appParam], get: admin("the app's URL templates", "data:read"), put: admin("replace them", "app:update", { requestBody: jsonBody({ type: "object", properties: { templates: { type: "array", items: { type: "string" } } } }) }) },
      "/admin/apps/{app}/keys": { parameters: [appParam], post: admin("create a write key (shown once)", "key:create", { requestBody: jsonBody(CreateWriteKey) }) },
      "/admin/apps/{app}/keys/{keyId}": { parameters: [appParam, { name: "keyId", in: "path", required: true, schema: { type: "string" } }], delete: admin("revoke a write key", "key:revoke") },
      "/admin/apps/{app}/alerts": { parameters: [appParam], get: admin("the app's alert rules", "data:read"), post: admin("create a rule", "alert:update", { requestBody: jsonBody(AlertRuleSchema) }) },
      "/admin/apps/{app}/webhooks": { parameters: [appParam], get: admin("the organisation's webhook endpoints", "alert:update"), post: admin("create an endpoint (its secret shown once)", "alert:update", { requestBody: jsonBody(CreateWebhookEndpoint) }) },
      "/admin/apps/{app}/flags": { parameters: [appParam], get: admin("the app's feature flags", "data:read"), post: admin("create a flag", "flag:update", { requestBody: jsonBody(Flag) }) },
      "/admin/apps/{app}/flags/{key}": {
        parameters: [appParam, keyParam],
        get: admin("a flag and its version", "data:read"),
        put: admin("replace a flag (If-Match: the version it was read at)", "flag:update", { requestBody: jsonBody(Flag) }),
        delete: admin("delete a flag (its history stays)", "flag:update"),
      },
      "/admin/apps/{app}/flags/{key}/history": { parameters: [appParam, keyParam], get: admin("a flag's changes, before and after", "data:read") },
      "/admin/apps/{app}/flags/{key}/rollback": { parameters: [appParam, keyParam], post: admin("restore a version as a new one", "flag:update", { requestBody: jsonBody({ type: "object", required: ["version"], properties: { version: { type: "integer", minimum: 1 } } }) }) },
      "/admin/apps/{app}/config": {
        parameters: [appParam],
        get: admin("the app's JSON configuration", "data:read"),
        put: admin("save a version, optionally with a JSON Schema it must satisfy", "flag:update", { requestBody: jsonBody({ type: "object", required: ["config"], properties: { config: ANY_OBJECT, schema: ANY_OBJECT, note: { type: "string" } } }) }),
      },
      "/admin/apps/{app}/config/history": { parameters: [appParam], get: admin("the configuration's versions", "data:read") },
      "/admin/apps/{app}/config/rollback": { parameters: [appParam], post: admin("restore a version as a new one", "flag:update", { requestBody: jsonBody({ type: "object", required: ["version"], properties: { version: { type: "integer", minimum: 1 } } }) }) },
      "/admin/apps/{app}/privacy/deletions": { parameters: [appParam], get: admin("the app's deletion requests", "privacy:manage"), post: admin("delete a person's data", "privacy:manage", { requestBody: jsonBody(ANY_OBJECT) }) },
      "/admin/apps/{app}/privacy/export": { parameters: [appParam], get: admin("a person's data as JSON", "privacy:manage") },
      "/admin/apps/{app}/exports": { parameters: [appParam], get: admin("the app's scheduled exports", "data:export"), post: admin("schedule an export (an S3 secret is stored sealed, never returned)", "data:export", { requestBody: jsonBody(CreateExport) }) },
      "/admin/apps/{app}/exports/{id}": {
        parameters: [appParam, exportParam],
        get: admin("a scheduled export and its latest runs", "data:export"),
        patch: admin("change it, or turn it on or off", "data:export", { requestBody: jsonBody(UpdateExport) }),
        delete: admin("delete it and its run log (written files stay)", "data:export"),
      },
      "/admin/apps/{app}/exports/{id}/runs": { parameters: [appParam, exportParam, { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500 } }], get: admin("its run log, newest period first", "data:export") },
      "/admin/apps/{app}/exports/{id}/run": { parameters: [appParam, exportParam], post: admin("export a period now (the latest whole one unless given), again if it was before", "data:export", { requestBody: { ...jsonBody(RunExport), required: false } }) },
      "/admin/apps/{app}/lake": { parameters: [appParam], get: admin("the app's data lake manifest (Parquet files in R2 by stored hour) and its location", null) },
      "/admin/apps/{app}/lake/replay": {
        parameters: [appParam],
        post: admin("insert the lake's files of stored hours [from, to) into ClickHouse, a page at a time: files ClickHouse already holds are skipped; call again with the cursor until it is null", null, { requestBody: jsonBody(LakeReplay), responses: { "200": ok("the files of this page", LakeReplayResult), ...errors(400, 401, 403, 404) } }),
      },
      "/admin/orgs/{org}/api-clients": { parameters: [{ name: "org", in: "path", required: true, schema: { type: "string" } }], get: admin("an organisation's API clients", null), post: admin("create one (its secret shown once)", null, { requestBody: jsonBody({ type: "object", required: ["name", "scopes"], properties: { name: { type: "string" }, scopes: { type: "array", items: { enum: [...API_SCOPES] } }, appIds: { type: "array", items: { type: "string" } } } }) }) },
      "/admin/dead-letters": { get: admin("archived dead letters", null) },
      ...queryApiPaths({ ok, errors, appParam }),
  };
}
