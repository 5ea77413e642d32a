import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { rangeSearch, rangeText } from "../queries/range";
import { Form, Link, useFetcher, useLoaderData, useNavigate, useSearchParams } from "@remix-run/react";
import { useEffect, useState } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { RangePicker, RangeFields } from "../components/range-picker";
import { ErrorCard } from "../components/error-card";
import { Pager, useParamLink } from "../components/pager";
import { Shell } from "../components/shell";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { cursorOf, parseCursor } from "../queries/cursor";
import { eventsAfter, listEvents, parseEventFilters, type EventPage, type EventRow } from "../queries/events.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Events` }];

const TYPES = ["track", "page", "screen", "identify", "group", "alias", "crash", "perf", "network"] as const;
const TAIL_MS = 3000;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const filters = parseEventFilters(url);
  // `after` is the live tail's poll: only rows newer than the newest one shown.
  const after = parseCursor(url.searchParams.get("after"));
  const { data: page, error } = await readOrError(
    async (): Promise<EventPage> =>
      after
        ? { rows: await eventsAfter(env.clickhouse, app.id, filters, after), next: null }
        : listEvents(env.clickhouse, app.id, filters, parseCursor(url.searchParams.get("before"))),
  );
  return json({ viewer, app: { id: app.id, name: app.name }, filters, page, error, canExport: can(viewer.role, "data:export"), paged: url.searchParams.has("before") });
}

const time = (ms: number): string => new Date(ms).toISOString().replace("T", " ").slice(0, 23);

export default function EventsPage() {
  const { viewer, app, filters, page, error, canExport, paged } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [liveWanted, setLive] = useState(false);
  // Older pages do not tail: new rows belong on the newest page.
  const live = liveWanted && !paged;
  const [fresh, setFresh] = useState<EventRow[]>([]);
  const tail = useFetcher<typeof loader>();
  const rows = [...fresh, ...(page?.rows ?? [])];
  const newest = rows[0];

  // A new search starts a new list.
  const search = params.toString();
  useEffect(() => setFresh([]), [search]);

  useEffect(() => {
    const got = tail.data?.page?.rows;
    if (tail.state === "idle" && got && got.length > 0) {
      setFresh((prev) => {
        const seen = new Set(prev.map((r) => r.messageId));
        return [...got.filter((r) => !seen.has(r.messageId)), ...prev];
      });
    }
  }, [tail.state, tail.data]);

  const newestCursor = newest ? cursorOf(newest) : `${filters.range.from * 1000}_`;
  useEffect(() => {
    if (!live) return;
    const id = setInterval(() => {
      if (document.visibilityState !== "visible" || tail.state !== "idle") return;
      const q = new URLSearchParams(search);
      q.delete("before");
      q.set("after", newestCursor);
      // Without `index` a fetcher targets the parent route, not this index route.
      q.set("index", "");
      void tail.load(`/apps/${app.id}/events?${q.toString()}`);
    }, TAIL_MS);
    return () => clearInterval(id);
  }, [live, search, newestCursor, tail, app.id]);

  const withParams = useParamLink();
  const detail = (r: EventRow): string => `/apps/${app.id}/events/${encodeURIComponent(r.messageId)}${withParams(() => undefined)}`;
  const filtered = Boolean(filters.type || filters.event || filters.user || filters.prop);

  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Events</h1>
        <RangePicker current={filters.range.key} />
      </div>
      <Form method="get" action={`/apps/${app.id}/events`} className="card filters" aria-label="Filter events">
        <RangeFields range={filters.range} />
        <label>
          Type
          <select name="type" defaultValue={filters.type}>
            <option value="">any</option>
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Event
          <input name="event" defaultValue={filters.event} placeholder="Order Completed" />
        </label>
        <label>
          User or anonymous id
          <input name="user" defaultValue={filters.user} />
        </label>
        <label>
          Property
          <input name="prop" defaultValue={filters.prop} placeholder="plan:pro" />
        </label>
        <button type="submit">Apply</button>
        {filtered ? <Link to={`?${rangeSearch(filters.range)}`}>Clear</Link> : null}
        <span className="spacer" />
        <label className="toggle">
          <input type="checkbox" checked={live} disabled={paged} onChange={(e) => setLive(e.currentTarget.checked)} />
          Live tail
        </label>
        {canExport ? (
          <a href={`/apps/${app.id}/events.csv${withParams((q) => q.delete("before"))}`} download>
            Export CSV
          </a>
        ) : null}
      </Form>
      {error || !page ? (
        <ErrorCard title="Could not load events" message={error} />
      ) : rows.length === 0 ? (
        <div className="card empty-state">
          <h2>No events match {filtered ? "these filters" : "this range"}</h2>
          <p className="muted">
            {filtered
              ? "Clear a filter or pick a longer range; the property filter compares text exactly (key:value)."
              : `Nothing arrived ${rangeText(filters.range)}: try a longer range, or send events with a write key.`}
          </p>
        </div>
      ) : (
        <section className="card" aria-label="Events">
          <table className="events">
            <thead>
              <tr>
                <th>time (UTC)</th>
                <th>type</th>
                <th>event</th>
                <th>user / anonymous id</th>
                <th>platform</th>
                <th>country</th>
                <th>path</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr
                  key={`${r.messageId}-${r.ts}`}
                  className="clickable"
                  onClick={(e) => {
                    // The time cell's link navigates by itself; the rest of the row is a bigger target.
                    if (!(e.target instanceof Element && e.target.closest("a"))) navigate(detail(r));
                  }}
                  data-fresh={fresh.includes(r) || undefined}
                >
                  <td>
                    <Link to={detail(r)}>{time(r.ts)}</Link>
                  </td>
                  <td>{r.type}</td>
                  <td>{r.event}</td>
                  <td>{r.userId || <span className="muted">{r.anonymousId}</span>}</td>
                  <td>{r.platform}</td>
                  <td>{r.country}</td>
                  <td className="clip">{r.path}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager paged={paged} next={page.next} />
        </section>
      )}
    </Shell>
  );
}
