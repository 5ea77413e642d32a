import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { MAX_CONVERSIONS, type AttributionModel } from "../../../schemas";
import { attributionPage } from "../attribution/page.server";
import { attributionReport, recentConversions } from "../attribution/report.server";
import { EMPTY_ROW, parseSettingsForm, toFields, type ConversionFields } from "../attribution/settings-form";
import { csrfForm } from "../auth/csrf.server";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { ChannelCells, ChannelHeads, money } from "../components/attribution";
import { CsrfField } from "../components/csrf";
import { ErrorCard } from "../components/error-card";
import { count, percent, utcMinute } from "../components/format";
import { Choice } from "../components/insights/filter-fields";
import { RangeFields, RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { envOf, intentOf } from "../context.server";
import { setAttribution } from "../db/apps.server";
import { readOrError } from "../queries/clickhouse.server";
import { rangeSearch, rangeText } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Attribution` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app, settings, url, q } = await attributionPage(request, env, params.app, "data:read");
  const show = url.searchParams.get("show") === "revenue" ? "revenue" : "conversions";
  const { data, error } = await readOrError(() =>
    Promise.all([attributionReport(env.clickhouse, app.id, settings, q.conversion, q.range, q.currency), recentConversions(env.clickhouse, app.id, q.conversion, q.range)]),
  );
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    settings,
    range: q.range,
    conversion: q.conversion,
    currency: q.currency,
    problems: q.problems,
    show,
    report: data?.[0] ?? null,
    recent: data?.[1] ?? [],
    error,
    canEdit: can(viewer.role, "app:update"),
    canExport: can(viewer.role, "data:export"),
  });
}

export const ATTRIBUTION_INTENTS = { save: "app:update" } as const;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, ATTRIBUTION_INTENTS);
  const { viewer, app } = await requireApp(request, env, params.app, ATTRIBUTION_INTENTS[intent]);
  const parsed = parseSettingsForm(form);
  if ("error" in parsed) return json({ error: parsed.error, rows: parsed.rows }, { status: 400 });
  if (!(await setAttribution(env.db, viewer.orgId, app.id, parsed.settings))) throw new Response("No such app in your organisation", { status: 404 });
  const n = parsed.settings.conversions.length;
  return json({ ok: `Attribution settings saved: ${n} conversion${n === 1 ? "" : "s"}. The report applies them to every range, past ones included.` });
}

/** "3.2 d", "5 h", "12 min": how long before a conversion its touches came. */
function ago(seconds: number | null): string {
  if (seconds === null) return "–";
  if (seconds < 3600) return `${Math.max(0, Math.round(seconds / 60))} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toLocaleString("en", { maximumFractionDigits: 1 })} h`;
  return `${(seconds / 86_400).toLocaleString("en", { maximumFractionDigits: 1 })} d`;
}

const credit = (v: number): string => v.toLocaleString("en", { maximumFractionDigits: 2 });

export default function AttributionPage() {
  const { viewer, app, settings, range, conversion, currency, problems, show, report, recent, error, canEdit, canExport } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const [params] = useSearchParams();
  const rows: ConversionFields[] = result && "rows" in result ? result.rows : settings.conversions.map(toFields);
  const shown = [...rows, EMPTY_ROW].slice(0, MAX_CONVERSIONS);
  const value = (model: AttributionModel, r: NonNullable<typeof report>["rows"][number]): string => (show === "revenue" ? money(r.revenue[model], "") : credit(r.conversions[model]));
  const csv = `/apps/${app.id}/attribution.csv?${params.toString()}`;
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Attribution</h1>
        <RangePicker current={range.key} />
      </div>
      <p className="muted">
        Which sources, media and campaigns brought the people who converted {rangeText(range)}: each conversion&apos;s touches within {settings.clickWindowDays} days
        before it (clicks; impressions within {settings.viewWindowHours} hours only when no click counts), credited under five models side by side. Each model&apos;s
        column adds up to the conversions.
      </p>
      {problems.map((p) => (
        <p key={p} className="card notice">
          {p}
        </p>
      ))}
      <Form method="get" className="card filters attribution-choice" aria-label="What to attribute">
        <RangeFields range={range} />
        <Choice label="Conversion" name="conversion" value={conversion.id} options={settings.conversions.map((c) => [c.id, `${c.name} (${c.event})`] as const)} />
        <Choice
          label="Show"
          name="show"
          value={show}
          options={[
            ["conversions", "Conversions credited"],
            ["revenue", "Revenue credited"],
          ]}
        />
        {report && report.otherCurrencies.length > 0 ? (
          <Choice label="Currency" name="currency" value={currency} options={[currency, ...report.otherCurrencies.map((c) => c.currency).filter((c) => c !== "(none)")]} />
        ) : null}
        <button type="submit">Apply</button>
        {canExport ? (
          <a href={csv} className="csv-link" download>
            CSV
          </a>
        ) : null}
      </Form>
      {error ? <ErrorCard title="Could not compute attribution" message={error} /> : null}
      {report ? (
        <>
          <section className="stats" aria-label="Totals">
            <div className="stat">
              <span className="label">{conversion.name}</span>
              <span className="value">{count(report.conversions)}</span>
            </div>
            <div className="stat">
              <span className="label">With a touch in the window</span>
              <span className="value">{report.conversions === 0 ? "–" : percent(report.touched / report.conversions)}</span>
            </div>
            {conversion.revenueProp ? (
              <div className="stat">
                <span className="label">Revenue</span>
                <span className="value">{money(report.revenue, report.currency)}</span>
              </div>
            ) : null}
          </section>
          {report.otherCurrencies.length > 0 ? (
            <p className="muted small">
              Revenue is summed in {report.currency || "the conversion's currency"}; conversions in{" "}
              {report.otherCurrencies.map((c) => `${c.currency} (${count(c.conversions)})`).join(", ")} are counted but their revenue is not added in.
            </p>
          ) : null}
          <section className="card" aria-label="Credit by channel">
            <h2>
              {show === "revenue" ? `Revenue credited${report.currency ? ` (${report.currency})` : ""}` : "Conversions credited"} by source, medium and campaign
            </h2>
            {report.rows.length === 0 ? (
              <p className="muted">No {conversion.name.toLowerCase()} {rangeText(range)}.</p>
            ) : (
              <div className="table-scroll">
                <table className="attribution-table">
                  <thead>
                    <tr>
                      <ChannelHeads />
                      <th className="num" title="Touches of this channel in the paths of the conversions">
                        Touches
                      </th>
                      <th className="num" title="Median time from a touch of this channel to the conversion">
                        Touch to conversion
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.rows.map((r) => (
                      <tr key={`${r.source}\u0001${r.medium}\u0001${r.campaign}\u0001${r.content}`}>
                        <ChannelCells channel={r} value={(m) => value(m, r)} />
                        <td className="num">{r.source === "(direct)" ? "–" : count(r.touches)}</td>
                        <td className="num">{ago(r.medianToConvert)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      ) : null}
      <section className="card" aria-label="A person's touch path">
        <h2>A person&apos;s touch path</h2>
        {recent.length > 0 ? (
          <table className="attribution-recent">
            <thead>
              <tr>
                <th>Latest {conversion.name.toLowerCase()} (UTC)</th>
                <th>Person</th>
                {conversion.revenueProp ? <th className="num">Revenue</th> : null}
              </tr>
            </thead>
            <tbody>
              {recent.map((r) => (
                <tr key={`${r.at}-${r.person}`}>
                  <td>{utcMinute(r.at)}</td>
                  <td>
                    <Link to={`/apps/${app.id}/attribution/people?${rangeSearch(range)}&conversion=${encodeURIComponent(conversion.id)}&person=${encodeURIComponent(r.person)}`}>{r.person}</Link>
                  </td>
                  {conversion.revenueProp ? <td className="num">{money(r.revenue, r.currency)}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <Form method="get" action={`/apps/${app.id}/attribution/people`} className="filters">
          <input type="hidden" name="conversion" value={conversion.id} />
          <RangeFields range={range} />
          <label>
            User id (or anonymous id)
            <input name="person" required maxLength={200} placeholder="user-42" />
          </label>
          <button type="submit">Show their conversions</button>
        </Form>
      </section>
      <ActionNotice result={result && "error" in result ? { error: result.error } : result} />
      <section className="card" aria-label="Attribution settings">
        <h2>Settings</h2>
        {canEdit ? (
          <Form key={JSON.stringify(settings)} method="post" className="attribution-settings" aria-label="Edit attribution settings">
            <CsrfField />
            <input type="hidden" name="intent" value="save" />
            <input type="hidden" name="rows" value={shown.length} />
            <div className="filters">
              <label>
                Click window (days)
                <input name="clickWindowDays" type="number" min={1} max={90} step={1} defaultValue={settings.clickWindowDays} required />
              </label>
              <label>
                View window (hours)
                <input name="viewWindowHours" type="number" min={1} max={720} step={1} defaultValue={settings.viewWindowHours} required />
              </label>
              <label>
                Time-decay half-life (days)
                <input name="halfLifeDays" type="number" min={0.5} max={90} step={0.5} defaultValue={settings.halfLifeDays} required />
              </label>
            </div>
            <h3>Conversions</h3>
            <p className="muted small">An event counts as a conversion, optionally only when a property equals a value. Revenue comes from a numeric property; the last row adds one.</p>
            <div className="table-scroll">
              <table className="conversion-rows">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Event</th>
                    <th>Only when property</th>
                    <th>equals</th>
                    <th>Revenue property</th>
                    <th>Currency property</th>
                    <th>Currency</th>
                    <th>Once a person</th>
                    <th>Remove</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((r, i) => (
                    <tr key={`${i}-${r.id}`}>
                      <td>
                        <input type="hidden" name={`c${i}.id`} defaultValue={r.id} />
                        <input name={`c${i}.name`} defaultValue={r.name} aria-label={`Conversion ${i + 1} name`} placeholder={i === rows.length ? "New conversion" : ""} />
                      </td>
                      <td>
                        <input name={`c${i}.event`} defaultValue={r.event} aria-label={`Conversion ${i + 1} event`} placeholder="Order Completed" />
                      </td>
                      <td>
                        <input name={`c${i}.whereProp`} defaultValue={r.whereProp} aria-label={`Conversion ${i + 1} property`} placeholder="plan" />
                      </td>
                      <td>
                        <input name={`c${i}.whereEquals`} defaultValue={r.whereEquals} aria-label={`Conversion ${i + 1} property value`} placeholder="pro" />
                      </td>
                      <td>
                        <input name={`c${i}.revenueProp`} defaultValue={r.revenueProp} aria-label={`Conversion ${i + 1} revenue property`} placeholder="revenue" />
                      </td>
                      <td>
                        <input name={`c${i}.currencyProp`} defaultValue={r.currencyProp} aria-label={`Conversion ${i + 1} currency property`} placeholder="currency" />
                      </td>
                      <td>
                        <input name={`c${i}.currency`} defaultValue={r.currency} aria-label={`Conversion ${i + 1} currency`} placeholder="USD" size={4} maxLength={3} />
                      </td>
                      <td>
                        <input type="checkbox" name={`c${i}.once`} defaultChecked={r.once} aria-label={`Conversion ${i + 1} once a person`} />
                      </td>
                      <td>{i < rows.length ? <input type="checkbox" name={`c${i}.remove`} aria-label={`Remove conversion ${i + 1}`} /> : null}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <button type="submit" disabled={busy}>
              Save settings
            </button>
          </Form>
        ) : (
          <ul>
            <li>
              Clicks count {settings.clickWindowDays} days before a conversion, impressions {settings.viewWindowHours} hours; time decay halves every {settings.halfLifeDays} days.
            </li>
            {settings.conversions.map((c) => (
              <li key={c.id}>
                {c.name}: <code>{c.event}</code>
                {c.where ? ` where ${c.where.prop} = ${c.where.equals}` : ""}
                {c.revenueProp ? `, revenue from ${c.revenueProp}` : ""}
                {c.once ? ", once a person" : ""}
              </li>
            ))}
          </ul>
        )}
      </section>
      <p className="muted small">
        <Link to={`/apps/${app.id}/users?${rangeSearch(range)}`}>People</Link> · How touchpoints are read: UTM parameters and ad click ids on landing pages and deep links,
        the <code>Install Attributed</code>, <code>Ad Clicked</code> and <code>Ad Viewed</code> events, and links from other sites classified as search, social, email or referral.
      </p>
    </Shell>
  );
}
