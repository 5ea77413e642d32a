import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { useState, type CSSProperties } from "react";
import { requireIntent, requirePermission } from "../auth/guard.server";
import { API_SCOPES, can, type Permission } from "../auth/permissions";
import { CsrfField } from "../components/csrf";
import { utcMinute } from "../components/format";
import { IntentForm } from "../components/intent-form";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import {
  createApiClient,
  grantableScopes,
  listApiClients,
  mayManage,
  readClientFields,
  revokeApiClient,
  rotateApiClient,
  SCOPE_DESCRIPTIONS,
  type ClientFields,
} from "../db/api-clients.server";
import { listApps } from "../db/apps.server";

export const meta: MetaFunction = () => [{ title: "API clients · edge-telemetry" }];

// Every member may see which clients exist, as they may see the members; making, rotating and
// revoking them is for those who manage members, since a client acts with a member's powers.
export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "member:read");
  const [clients, apps] = await Promise.all([listApiClients(env.db, viewer.orgId), listApps(env.db, viewer.orgId)]);
  const canManage = can(viewer.role, "member:update");
  const grantable = grantableScopes(viewer.role);
  return json({
    viewer,
    canManage,
    clients: clients.map((c) => ({
      ...c,
      manageable: canManage && c.revokedAt === null && mayManage(viewer.role, c),
    })),
    apps: apps.map((a) => ({ id: a.id, name: a.name })),
    scopes: grantable.map((scope) => ({
      scope,
      description: SCOPE_DESCRIPTIONS[scope],
    })),
    withheld: API_SCOPES.filter((p) => !grantable.includes(p)),
  });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = {
  create: "member:update",
  rotate: "member:update",
  revoke: "member:update",
} as const satisfies Record<string, Permission>;

export type ApiClientsResult = { ok: string; clientId: string; secret?: string } | { error: string; values?: ClientFields };

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const reply = (body: ApiClientsResult, status = 200) => json(body, { status });
  switch (intent) {
    case "create": {
      const values = readClientFields(form);
      const made = await createApiClient(env.db, viewer, values);
      if (!made.ok) return reply({ error: made.reason, values }, made.status);
      return reply({
        ok: `API client ${made.client.name} created. Its id and secret:`,
        clientId: made.client.id,
        secret: made.secret,
      });
    }
    case "rotate": {
      const rotated = await rotateApiClient(env.db, viewer, field(form, "clientId"), field(form, "overlap"));
      if (!rotated.ok) return reply({ error: rotated.reason }, rotated.status);
      const old =
        field(form, "overlap") === "none" ? "The old secret stopped working now." : `The old secret keeps working for ${OVERLAP_WORDS[field(form, "overlap")] ?? "a while"}.`;
      return reply({
        ok: `New secret for ${rotated.client.name}. ${old}`,
        clientId: rotated.client.id,
        secret: rotated.secret,
      });
    }
    case "revoke": {
      const revoked = await revokeApiClient(env.db, viewer, field(form, "clientId"));
      if (!revoked.ok) return reply({ error: revoked.reason }, revoked.status);
      return reply({
        ok: `${revoked.client.name} is revoked: its secrets stop working now and the tokens it holds within a few minutes.`,
        clientId: revoked.client.id,
      });
    }
  }
}

const OVERLAP_WORDS: Readonly<Record<string, string>> = {
  hour: "1 hour",
  day: "1 day",
  week: "7 days",
};

// The dashboard does not know where the Worker is deployed; the reader does.
const EDGE = "https://<your worker>";

const CHECKS: CSSProperties = {
  display: "grid",
  gridTemplateColumns: "repeat(auto-fill, minmax(22rem, 1fr))",
  gap: ".4rem 1rem",
  maxWidth: "none",
};
const CHECK: CSSProperties = {
  display: "flex",
  gap: ".5rem",
  alignItems: "flex-start",
};
const BOX: CSSProperties = { margin: ".2rem 0 0", flex: "none" };
const LEGEND: CSSProperties = { fontSize: ".9rem", color: "#334155", marginBottom: ".4rem", padding: 0 };
const REVOKED: CSSProperties = { opacity: 0.5 };

function NewClientSecret({ message, clientId, secret }: { message: string; clientId: string; secret: string }) {
  return (
    <div className="card notice" role="status" aria-label="New client secret">
      <p>{message}</p>
      <p>
        Client id <code data-client-id>{clientId}</code>
      </p>
      <code className="new-key" data-secret>
        {secret}
      </code>
      <p className="small muted">Copy the secret now (one click selects it): it is not shown again. Exchange it for a 15-minute access token:</p>
      <pre
        data-curl
        style={{
          userSelect: "all",
          whiteSpace: "pre-wrap",
          wordBreak: "break-all",
        }}
      >{`curl -s ${EDGE}/oauth/token -u "${clientId}:${secret}" -d grant_type=client_credentials`}</pre>
      <p className="small muted">
        Then call the admin API with <code>Authorization: Bearer &lt;access_token&gt;</code>, e.g. <code>GET {EDGE}/admin/apps</code>.
      </p>
    </div>
  );
}

type Listed = ReturnType<typeof useLoaderData<typeof loader>>["clients"][number];

function ClientRow({ c, appNames, canManage }: { c: Listed; appNames: ReadonlyMap<string, string>; canManage: boolean }) {
  return (
    <tr data-client={c.id} data-state={c.revokedAt === null ? "live" : "revoked"} style={c.revokedAt === null ? undefined : REVOKED}>
      <td>
        <strong>{c.name}</strong>
        <br />
        <code className="small">{c.id}</code>
      </td>
      <td>
        {c.scopes.map((s) => (
          <code key={s} className="small" style={{ marginRight: ".25rem", display: "inline-block" }}>
            {s}
          </code>
        ))}
      </td>
      <td>{c.appIds ? c.appIds.map((id) => appNames.get(id) ?? id).join(", ") : <span className="muted nowrap">all apps</span>}</td>
      <td className="nowrap">
        {c.createdByName}
        <br />
        <span className="small muted">{utcMinute(c.createdAt)}</span>
      </td>
      <td className="nowrap">{c.lastUsedAt === null ? <span className="muted">never</span> : utcMinute(c.lastUsedAt)}</td>
      <td className="nowrap">{c.rotatedAt === null ? <span className="muted">never</span> : utcMinute(c.rotatedAt)}</td>
      <td>
        {c.revokedAt === null ? (
          <span className="muted">live</span>
        ) : (
          <>
            revoked
            <br />
            <span className="small nowrap">{utcMinute(c.revokedAt)}</span>
          </>
        )}
      </td>
      {canManage ? (
        <td style={{ minWidth: "16rem" }}>
          {c.manageable ? (
            <div style={{ display: "grid", gap: ".5rem" }}>
              <IntentForm intent="rotate" label="Rotate" title={`Rotate ${c.name}`}>
                <input type="hidden" name="clientId" value={c.id} />
                <label>
                  Old secret works for
                  <select name="overlap" defaultValue="day">
                    <option value="none">no longer</option>
                    <option value="hour">1 hour</option>
                    <option value="day">1 day</option>
                    <option value="week">7 days</option>
                  </select>
                </label>
              </IntentForm>
              <IntentForm
                intent="revoke"
                label="Revoke"
                title={`Revoke ${c.name}`}
                danger
                confirm={`Revoke ${c.name}? Its secrets and tokens stop working; this cannot be undone.`}
              >
                <input type="hidden" name="clientId" value={c.id} />
              </IntentForm>
            </div>
          ) : null}
        </td>
      ) : null}
    </tr>
  );
}

function CreateForm({
  scopes,
  withheld,
  apps,
  values,
  formKey,
}: {
  scopes: Array<{ scope: string; description: string }>;
  withheld: string[];
  apps: Array<{ id: string; name: string }>;
  values: ClientFields | null;
  formKey: string;
}) {
  const [some, setSome] = useState(values?.apps === "some");
  return (
    <Form method="post" aria-label="Create API client" key={formKey}>
      <CsrfField />
      <input type="hidden" name="intent" value="create" />
      <fieldset>
        <label>
          Name
          <input name="name" required maxLength={100} defaultValue={values?.name ?? ""} placeholder="e.g. nightly export" />
        </label>
      </fieldset>
      <fieldset style={{ maxWidth: "none", marginTop: "1rem" }}>
        <legend style={LEGEND}>Scopes</legend>
        <div style={CHECKS}>
          {scopes.map((s) => (
            <label key={s.scope} style={CHECK}>
              <input style={BOX} type="checkbox" name="scope" value={s.scope} defaultChecked={values?.scopes.includes(s.scope) ?? false} />
              <span>
                <code>{s.scope}</code> <span className="small muted">{s.description}</span>
              </span>
            </label>
          ))}
        </div>
        {withheld.length > 0 ? <p className="small muted">A client gets only scopes your role holds; not {withheld.join(", ")}.</p> : null}
      </fieldset>
      <fieldset style={{ maxWidth: "none", marginTop: "1rem" }}>
        <legend style={LEGEND}>Apps</legend>
        <label style={CHECK}>
          <input style={BOX} type="radio" name="apps" value="all" defaultChecked={!some} onChange={() => setSome(false)} />
          <span>
            All apps <span className="small muted">(including apps made later)</span>
          </span>
        </label>
        <label style={CHECK}>
          <input style={BOX} type="radio" name="apps" value="some" defaultChecked={some} onChange={() => setSome(true)} disabled={apps.length === 0} />
          <span>Only these apps</span>
        </label>
        <div style={{ ...CHECKS, paddingLeft: "1.5rem", display: some ? "grid" : "none" }}>
          {apps.map((a) => (
            <label key={a.id} style={CHECK}>
              <input style={BOX} type="checkbox" name="app" value={a.id} defaultChecked={values?.appIds.includes(a.id) ?? false} />
              <span>
                {a.name} <code className="small">{a.id}</code>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <button type="submit" style={{ marginTop: "1rem" }}>
        Create client
      </button>
    </Form>
  );
}

export default function ApiClientsPage() {
  const { viewer, canManage, clients, apps, scopes, withheld } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const appNames = new Map(apps.map((a) => [a.id, a.name]));
  const failed = result && "error" in result ? result : null;
  return (
    <Shell viewer={viewer}>
      <h1>API clients of {viewer.orgName}</h1>
      <p className="muted">
        A client is a program of yours (a script, a CI job, a back office) calling the admin API or reading the dashboard's views as JSON (/api/v1/…). It trades its id and secret at <code>POST /oauth/token</code> for an access token
        good for 15 minutes, which reaches only the apps and does only what its scopes allow.
      </p>
      {failed ? (
        <p className="card error" role="alert">
          {failed.error}
        </p>
      ) : null}
      {result && "secret" in result && result.secret ? <NewClientSecret message={result.ok} clientId={result.clientId} secret={result.secret} /> : null}
      {result && "ok" in result && !("secret" in result && result.secret) ? (
        <p className="card notice" role="status">
          {result.ok}
        </p>
      ) : null}
      {clients.length === 0 ? (
        <div className="card empty-state">
          <h2>No API clients yet</h2>
          <p className="muted">
            {canManage ? "Make one below for each program that calls the admin API, so each can be rotated or revoked on its own." : "Owners and admins make them."}
          </p>
        </div>
      ) : (
        <section className="card" aria-label="API clients">
          <table>
            <thead>
              <tr>
                <th>Name and id</th>
                <th>Scopes</th>
                <th>Apps</th>
                <th>Created (UTC)</th>
                <th>Last used</th>
                <th>Rotated</th>
                <th>State</th>
                {canManage ? <th /> : null}
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <ClientRow key={c.id} c={c} appNames={appNames} canManage={canManage} />
              ))}
            </tbody>
          </table>
        </section>
      )}
      {canManage ? (
        <section className="card">
          <h2>New API client</h2>
          <CreateForm scopes={scopes} withheld={withheld} apps={apps} values={failed?.values ?? null} formKey={failed ? "retry" : `new-${clients.length}`} />
        </section>
      ) : null}
    </Shell>
  );
}
