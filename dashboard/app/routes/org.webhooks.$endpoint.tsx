import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireIntent, requirePermission, type Viewer } from "../auth/guard.server";
import type { Permission } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { utcMinute } from "../components/format";
import { IntentForm } from "../components/intent-form";
import { Shell } from "../components/shell";
import { DeliveryFilter, DeliveryLog } from "../components/webhook-deliveries";
import { EndpointForm, EndpointState, FORMAT_LABELS, NewSecret, type EndpointFields } from "../components/webhook-endpoint";
import { envOf, field } from "../context.server";
import { alertsApi } from "../db/alerts-api.server";
import { deleteEndpoint, deliveryLog, getDelivery, getEndpoint, parseEndpointFields, rotateSecret, updateEndpoint, type WebhookEndpointInfo } from "../db/webhooks.server";
import type { DashboardEnv } from "../env.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.endpoint.description || "Endpoint"} · Webhooks` }];

/** The organisation's endpoint the URL names; 404 for any other, whoever's it is. */
async function endpointOf(env: DashboardEnv, viewer: Viewer, id: string | undefined): Promise<WebhookEndpointInfo> {
  const endpoint = id ? await getEndpoint(env, viewer.orgId, id) : null;
  if (!endpoint) throw new Response("No such webhook endpoint in your organisation", { status: 404 });
  return endpoint;
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "alert:update");
  const endpoint = await endpointOf(env, viewer, params.endpoint);
  const url = new URL(request.url);
  const app = url.searchParams.get("app") ?? "";
  const before = url.searchParams.get("before");
  const log = await deliveryLog(env, viewer.orgId, endpoint.id, { appId: app || null, before });
  return json({ viewer, endpoint, app, paged: before !== null, ...log });
}

/** What each form's `intent` needs: all of it is managing the organisation's endpoints. */
export const INTENT_PERMISSIONS = {
  update: "alert:update",
  enable: "alert:update",
  disable: "alert:update",
  rotate: "alert:update",
  test: "alert:update",
  resend: "alert:update",
  delete: "alert:update",
} as const satisfies Record<string, Permission>;

export type EndpointResult = { ok: string; secret?: string } | { error: string; values?: EndpointFields };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const endpoint = await endpointOf(env, viewer, params.endpoint);
  const reply = (body: EndpointResult, status = 200) => json(body, { status });
  switch (intent) {
    case "update": {
      const values: EndpointFields = { url: field(form, "url"), description: field(form, "description"), format: field(form, "format") };
      const parsed = parseEndpointFields(values);
      if (!parsed.ok) return reply({ error: parsed.reason, values }, 400);
      const changed = await updateEndpoint(env, viewer.orgId, endpoint.id, parsed.value);
      if (!changed) throw new Response("No such webhook endpoint in your organisation", { status: 404 });
      if (!changed.ok) return reply({ error: `This URL cannot receive webhooks: ${changed.reason}.`, values }, 400);
      return reply({ ok: "Saved." });
    }
    case "enable":
    case "disable": {
      const on = intent === "enable";
      if (on === endpoint.enabled) return reply({ ok: on ? "It is already on." : "It is already off." });
      if (!(await updateEndpoint(env, viewer.orgId, endpoint.id, { enabled: on }))) throw new Response("No such webhook endpoint in your organisation", { status: 404 });
      if (!on) return reply({ ok: "Turned off: deliveries to it fail at once until it is turned on again." });
      const cleared = endpoint.disabledReason || endpoint.failingSince !== null ? " Its failure record is cleared: it is turned off again only after another 24 hours of failures." : "";
      return reply({ ok: `Turned on: new deliveries are sent to it again.${cleared} Deliveries that failed meanwhile stay failed; resend those you need.` });
    }
    case "rotate": {
      const rotated = await rotateSecret(env, viewer.orgId, endpoint.id, field(form, "now") !== "1");
      if (!rotated) throw new Response("No such webhook endpoint in your organisation", { status: 404 });
      const previous =
        rotated.previousExpireAt <= Date.now()
          ? "The previous secret no longer signs: receivers still using it refuse deliveries from now on."
          : `The previous secret keeps signing beside it until ${utcMinute(rotated.previousExpireAt)} UTC: switch your receiver before then.`;
      return reply({ ok: `New signing secret. ${previous}`, secret: rotated.secret });
    }
    case "test": {
      const sent = await alertsApi(context.cloudflare.env).testEndpoint(viewer.orgId, endpoint.id);
      if (!sent.ok) return reply({ error: `No test was sent: ${sent.reason}.` }, 409);
      const off = endpoint.enabled ? "" : " The endpoint is turned off, so its attempt fails at once: turn it on to receive it.";
      return reply({ ok: `Test delivery queued: it is in the log below, pending until its attempt is made (reload to follow it).${off}` });
    }
    case "resend": {
      const delivery = await getDelivery(env, viewer.orgId, field(form, "deliveryId"));
      if (!delivery || delivery.endpointId !== endpoint.id) return reply({ error: "No such delivery in this endpoint's log." }, 404);
      if (delivery.status === "pending") return reply({ error: "That delivery is still pending: its next attempt is already planned." }, 409);
      const sent = await alertsApi(context.cloudflare.env).resendDelivery(viewer.orgId, delivery.id);
      if (!sent.ok) return reply({ error: `Not resent: ${sent.reason}.` }, 409);
      return reply({ ok: `Delivery ${delivery.id} is pending again, with the same id and body; its attempt is made shortly.` });
    }
    case "delete": {
      await deleteEndpoint(env, viewer.orgId, endpoint.id);
      return redirect("/org/webhooks");
    }
  }
}

export default function WebhookEndpointPage() {
  const { viewer, endpoint, app, paged, deliveries, next, apps } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const failedEdit = result && "values" in result && result.values ? result : null;
  return (
    <Shell viewer={viewer}>
      <div className="page-head">
        <h1 className="endpoint-title">{endpoint.url}</h1>
        <Link to="/org/webhooks">All endpoints</Link>
      </div>
      {result && "secret" in result && result.secret ? <NewSecret message={result.ok} secret={result.secret} /> : failedEdit ? null : <ActionNotice result={result} />}
      <section className="card" aria-label="Endpoint">
        <dl className="facts">
          <dt>Description</dt>
          <dd>{endpoint.description || <span className="muted">none</span>}</dd>
          <dt>Format</dt>
          <dd>{FORMAT_LABELS[endpoint.format]}</dd>
          <dt>State</dt>
          <dd>
            <EndpointState endpoint={endpoint} />
          </dd>
          <dt>Created</dt>
          <dd>{utcMinute(endpoint.createdAt)} UTC</dd>
          <dt>Id</dt>
          <dd>
            <code>{endpoint.id}</code>
          </dd>
        </dl>
        <div className="endpoint-actions">
          <IntentForm intent="test" label="Send test" title="Send a test delivery" />
          {endpoint.enabled ? (
            <IntentForm intent="disable" label="Turn off" title="Turn the endpoint off" confirm="Turn this endpoint off? Deliveries to it fail at once until it is on again." />
          ) : (
            <IntentForm intent="enable" label="Turn on" title="Turn the endpoint on" />
          )}
        </div>
        {!endpoint.enabled && endpoint.disabledReason ? (
          <p className="small">Turning it on clears its failure record; it is turned off again only if every delivery fails for another 24 hours.</p>
        ) : null}
      </section>
      <section className="card" aria-label="Deliveries">
        <div className="page-head">
          <h2>Deliveries</h2>
          <DeliveryFilter apps={apps} app={app} />
        </div>
        <DeliveryLog deliveries={deliveries} next={next} paged={paged} filtered={app !== ""} />
      </section>
      <div className="grid two endpoint-settings">
        <section className="card">
          <h2>Edit</h2>
          <EndpointForm
            intent="update"
            label="Save"
            values={failedEdit?.values ?? { url: endpoint.url, description: endpoint.description, format: endpoint.format }}
            error={failedEdit?.error ?? null}
            formKey={failedEdit ? "retry" : `${endpoint.url}|${endpoint.description}|${endpoint.format}`}
          />
        </section>
        <section className="card">
          <h2>Signing secret</h2>
          <p className="small">
            A new secret is shown once. The previous one keeps signing beside it for 24 hours, so receivers can switch without missing a delivery, unless it leaked.
          </p>
          <Form method="post" className="endpoint-form" aria-label="Rotate secret">
            <CsrfField />
            <input type="hidden" name="intent" value="rotate" />
            <label className="toggle">
              <input type="checkbox" name="now" value="1" /> The previous secret leaked: stop signing with it at once
            </label>
            <button type="submit">Rotate secret</button>
          </Form>
        </section>
      </div>
      <section className="card danger-zone">
        <h2>Delete endpoint</h2>
        <p>Its secrets and its delivery log go with it, and alert rules that name it no longer send there.</p>
        <IntentForm intent="delete" label="Delete endpoint" confirm={`Delete the endpoint ${endpoint.url} and its delivery log?`} danger />
      </section>
    </Shell>
  );
}
