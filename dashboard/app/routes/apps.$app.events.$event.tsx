import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData, useLocation } from "@remix-run/react";
import { requireApp } from "../auth/guard.server";
import { ErrorCard } from "../components/error-card";
import { Shell } from "../components/shell";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { getEvent } from "../queries/events.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Event` }];

const JSON_COLUMNS = ["properties", "traits", "context"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const { data: event, error } = await readOrError(() => getEvent(env.clickhouse, app.id, params.event ?? ""));
  // Another app's event is as absent as a made-up id.
  if (!event && !error) throw new Response("No such event in this app", { status: 404 });
  return json({ viewer, app: { id: app.id, name: app.name }, event, error });
}

/** JSON text indented for reading; text that is not JSON is shown as it is. */
function pretty(raw: string | number | undefined): string {
  const s = String(raw ?? "");
  if (s === "") return "{}";
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}

export default function EventDetailPage() {
  const { viewer, app, event, error } = useLoaderData<typeof loader>();
  const { search } = useLocation();
  const back = `/apps/${app.id}/events${search}`;
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>{event ? `${String(event.type)} ${String(event.event)}`.trim() : "Event"}</h1>
        <Link to={back}>← Back to events</Link>
      </div>
      {error || !event ? (
        <ErrorCard title="Could not load the event" message={error} />
      ) : (
        <div className="grid detail">
          <section className="card" aria-label="Columns">
            <h2>Columns</h2>
            <table className="kv">
              <tbody>
                {Object.entries(event)
                  .filter(([k]) => !(JSON_COLUMNS as readonly string[]).includes(k))
                  .map(([k, v]) => (
                    <tr key={k}>
                      <th>{k}</th>
                      <td>{v === "" ? <span className="muted">—</span> : String(v)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </section>
          <div>
            {JSON_COLUMNS.map((k) => (
              <section className="card" key={k} aria-label={k}>
                <h2>{k}</h2>
                <pre>{pretty(event[k])}</pre>
              </section>
            ))}
          </div>
        </div>
      )}
    </Shell>
  );
}
