import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireIntent, requirePermission } from "../auth/guard.server";
import type { Permission } from "../auth/permissions";
import { utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { EndpointForm, EndpointState, FORMAT_LABELS, NewSecret, type EndpointFields } from "../components/webhook-endpoint";
import { envOf, field } from "../context.server";
import { createEndpoint, listEndpoints, parseEndpointFields } from "../db/webhooks.server";

export const meta: MetaFunction = () => [{ title: "Webhooks · edge-telemetry" }];

// Endpoint URLs can be credentials (Slack's are), so even listing them takes alert:update.
export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "alert:update");
  return json({ viewer, endpoints: await listEndpoints(env, viewer.orgId) });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = { create: "alert:update" } as const satisfies Record<string, Permission>;

export type CreateResult = { ok: string; secret: string; endpointId: string } | { error: string; values: EndpointFields };

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const values: EndpointFields = { url: field(form, "url"), description: field(form, "description"), format: field(form, "format") };
  const reply = (body: CreateResult, status = 200) => json(body, { status });
  const parsed = parseEndpointFields(values);
  if (!parsed.ok) return reply({ error: parsed.reason, values }, 400);
  const created = await createEndpoint(env, viewer.orgId, parsed.value, viewer.userId);
  if (!created.ok) return reply({ error: `This URL cannot receive webhooks: ${created.reason}.`, values }, 400);
  return reply({ ok: `Endpoint created for ${created.endpoint.url}. Its signing secret:`, secret: created.secret, endpointId: created.endpoint.id });
}

const BLANK: EndpointFields = { url: "", description: "", format: "standard" };

export default function WebhooksPage() {
  const { viewer, endpoints } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const failed = result && "error" in result ? result : null;
  return (
    <Shell viewer={viewer}>
      <h1>Webhooks of {viewer.orgName}</h1>
      <p className="muted">
        Alert rules send to these endpoints when they fire and when they resolve. Each request is signed with the endpoint's secret the Standard Webhooks way (
        <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>), and retried with backoff for 24 hours until the receiver answers 2xx.
      </p>
      {result && "secret" in result ? <NewSecret message={result.ok} secret={result.secret} /> : null}
      {endpoints.length === 0 ? (
        <div className="card empty-state">
          <h2>No endpoints yet</h2>
          <p className="muted">
            An endpoint is a URL of yours (an on-call tool, a chat channel's incoming webhook, your own service) that receives alerts. Add one below, then choose it in an
            app's alert rules.
          </p>
        </div>
      ) : (
        <section className="card" aria-label="Endpoints">
          <table className="endpoints">
            <thead>
              <tr>
                <th>URL</th>
                <th>Description</th>
                <th>Format</th>
                <th>State</th>
                <th>Created (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <tr key={e.id} data-endpoint={e.id}>
                  <td className="endpoint-url">
                    <Link to={`/org/webhooks/${e.id}`}>{e.url}</Link>
                  </td>
                  <td>{e.description || <span className="muted">none</span>}</td>
                  <td>{FORMAT_LABELS[e.format]}</td>
                  <td>
                    <EndpointState endpoint={e} />
                  </td>
                  <td className="nowrap">{utcMinute(e.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section className="card">
        <h2>Add an endpoint</h2>
        <p className="small muted">
          Only <code>https</code> URLs on public hosts: addresses in private, loopback, link-local and metadata ranges are refused, and redirects are not followed.
        </p>
        <EndpointForm
          intent="create"
          label="Create endpoint"
          values={failed?.values ?? BLANK}
          error={failed?.error ?? null}
          formKey={failed ? "retry" : `new-${endpoints.length}`}
        />
      </section>
    </Shell>
  );
}
