import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import { useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { TimeChart, type Series } from "../components/chart";
import { ErrorCard } from "../components/error-card";
import { RangePicker } from "../components/range-picker";
import { count, utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { loadPipeline, loadStaleShards, type Lag, type PipelineBucket, type ReasonRow, type StageCounts, type StaleShard } from "../queries/pipeline.server";
import { parseRange, rangeSearch, rangeText } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Pipeline health` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const range = parseRange(new URL(request.url));
  const [{ data: pipeline, error }, stale] = await Promise.all([readOrError(() => loadPipeline(env.clickhouse, app.id, range)), loadStaleShards(env.db, app.id)]);
  return json({ viewer, app: { id: app.id, name: app.name }, range, pipeline, error, stale, canExport: can(viewer.role, "data:export") });
}

// What each reason code means to someone reading the table.
const REASONS: Record<string, string> = {
  invalid_event: "event failed validation",
  event_too_large: "event over 32 KB, or its row over 100,000 bytes as stored",
  too_deep: "event nested too deeply",
  invalid_timestamp: "unreadable or too old timestamp",
  rate_limited: "over the app's rate limit (client retries)",
  issue_cap: "crashes of one issue over its per-minute cap (a crash loop); counted on the issue",
  app_cap: "the app's crashes over their per-minute cap; counted on each issue",
  buffer_full: "app's buffer full (client retries)",
  batch_too_large: "more than 2,500 events in a batch, or their rows over 8 MB as stored",
  unsendable: "too large for a queue message; archived in R2",
  empty_batch: "batch without events",
  invalid_json: "body is not JSON",
  invalid_body: "body is not a valid batch",
  payload_too_large: "body over 1 MB",
  unsupported_media_type: "content type not accepted",
  unsupported_encoding: "content encoding not accepted",
};

const fmt = count;
const seconds = (ms: number): string => `${(ms / 1000).toLocaleString("en", { maximumFractionDigits: ms < 10_000 ? 2 : 1 })} s`;
const when = (t: number, step: number): string => (step >= 86_400 ? utcMinute(t * 1000).slice(0, 10) : utcMinute(t * 1000));

type Lines = ReadonlyArray<readonly [keyof StageCounts, string, string]>;

// Stage, legend label, colour of each chart's lines.
const FLOW: Lines = [
  ["accepted", "accepted", "#2563eb"],
  ["flushed", "flushed", "#7c3aed"],
  ["inserted", "inserted", "#059669"],
];
const LOSSES: Lines = [
  ["rejected", "rejected", "#dc2626"],
  ["deduplicated", "deduplicated", "#64748b"],
  ["capped", "crashes capped", "#a16207"],
  ["dead_lettered", "dead-lettered", "#9f1239"],
  ["archive_failed", "archive failures", "#4b5563"],
  ["suppressed", "deleted people's events", "#be185d"],
  ["refused", "refused requests", "#d97706"],
];
const REDACTIONS: Lines = [["redacted", "values redacted", "#0891b2"]];

function stageSeries(buckets: readonly PipelineBucket[], lines: Lines): Series[] {
  return lines.map(([stage, label, color]) => ({ label, color, points: buckets.map((b) => ({ t: b.t, n: b.counts[stage] })) }));
}

function lagSeries(buckets: readonly PipelineBucket[]): Series[] {
  const withLag = buckets.flatMap((b) => (b.lag ? [{ t: b.t, lag: b.lag }] : []));
  const line = (label: string, color: string, pick: (l: Lag) => number): Series => ({ label, color, points: withLag.map((b) => ({ t: b.t, n: pick(b.lag) / 1000 })) });
  return [line("p50", "#059669", (l) => l.p50), line("p95", "#d97706", (l) => l.p95), line("max", "#dc2626", (l) => l.max)];
}

export default function PipelinePage() {
  const { viewer, app, range, pipeline, error, stale, canExport } = useLoaderData<typeof loader>();
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const charts = useMemo(() => {
    const buckets = pipeline?.buckets ?? [];
    return { flow: stageSeries(buckets, FLOW), losses: stageSeries(buckets, LOSSES), redactions: stageSeries(buckets, REDACTIONS), lag: lagSeries(buckets) };
  }, [pipeline]);

  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Pipeline health</h1>
        <RangePicker current={range.key} />
      </div>
      <StaleWarning shards={stale} />
      {error || !pipeline ? (
        <ErrorCard title="Could not load the pipeline counters" message={error} />
      ) : pipeline.buckets.length === 0 ? (
        <div className="card empty-state">
          <h2>Nothing went through the pipeline {rangeText(range)}</h2>
          <p>
            Every request with this app&apos;s write key is counted here per minute: events accepted, rejected (and why), dropped as duplicates,
            crashes over the crash caps, events flushed, stored in ClickHouse and dead-lettered, and how long they took to arrive.
          </p>
          <p>
            Send events with a key from <a href={`/apps/${app.id}/settings`}>Settings &amp; keys</a>; counts show up within a few seconds.
          </p>
        </div>
      ) : (
        <>
          <div className="stats">
            <Stat label="Accepted" value={fmt(pipeline.totals.accepted)} />
            <Stat label="Rejected events" value={fmt(pipeline.totals.rejected)} />
            <Stat label="Refused requests" value={fmt(pipeline.totals.refused)} />
            <Stat label="Deduplicated" value={fmt(pipeline.totals.deduplicated)} />
            <Stat label="Crashes capped" value={fmt(pipeline.totals.capped)} />
            <Stat label="Flushed" value={fmt(pipeline.totals.flushed)} />
            <Stat label="Inserted" value={fmt(pipeline.totals.inserted)} />
            <Stat label="Values redacted" value={fmt(pipeline.totals.redacted)} />
            <Stat label="Dead-lettered" value={fmt(pipeline.totals.dead_lettered)} />
            <Stat label="Archive failures" value={fmt(pipeline.totals.archive_failed)} />
            <Stat label="Deleted people's events dropped" value={fmt(pipeline.totals.suppressed)} />
            <Stat label="Lag p50 / p95" value={pipeline.lag ? `${seconds(pipeline.lag.p50)} / ${seconds(pipeline.lag.p95)}` : "—"} />
            <Stat label="Lag max" value={pipeline.lag ? seconds(pipeline.lag.max) : "—"} />
          </div>
          <div className="grid two">
            <TimeChart title="Accepted, flushed, inserted" series={charts.flow} span={span} fillStep={range.step} />
            <TimeChart title="Rejected, deduplicated, capped, dead-lettered" series={charts.losses} span={span} fillStep={range.step} />
            <TimeChart title="Ingest to ClickHouse lag (seconds)" series={charts.lag} span={span} />
            <TimeChart title="Values redacted" series={charts.redactions} span={span} fillStep={range.step} />
          </div>
          <ReasonTable rows={pipeline.reasons} csv={canExport ? `/apps/${app.id}/pipeline.csv?${rangeSearch(range)}&table=reasons` : null} />
          <BucketTable buckets={pipeline.buckets} step={range.step} csv={canExport ? `/apps/${app.id}/pipeline.csv?${rangeSearch(range)}` : null} />
        </>
      )}
    </Shell>
  );
}

function StaleWarning({ shards }: { shards: readonly StaleShard[] }) {
  if (shards.length === 0) return null;
  return (
    <div className="card error-card" role="alert">
      <h2>Events are waiting</h2>
      <ul>
        {shards.map((s) => (
          <li key={s.shard}>
            shard {s.shard}: oldest buffered event is {Math.floor(s.ageMs / 60_000)} min old (stale since {utcMinute(s.staleSince)} UTC)
          </li>
        ))}
      </ul>
      <p className="muted">
        Accepted events are kept, but they have not reached ClickHouse yet. The queue or ClickHouse may be failing: see the flush and dead-letter counts
        below.
      </p>
    </div>
  );
}

function ReasonTable({ rows, csv }: { rows: readonly ReasonRow[]; csv: string | null }) {
  return (
    <section className="card" aria-label="Rejected by reason">
      <div className="page-head">
        <h2>Rejected by reason</h2>
        {csv && rows.length > 0 ? (
          <a href={csv} download>
            Export CSV
          </a>
        ) : null}
      </div>
      {rows.length === 0 ? (
        <p className="muted">Nothing was rejected, refused, capped or dead-lettered in this range.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>reason</th>
              <th>meaning</th>
              <th className="num">events rejected</th>
              <th className="num">requests refused</th>
              <th className="num">events dead-lettered</th>
              <th className="num">crashes capped</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.reason}>
                <td>
                  <code>{r.reason === "" ? "(none)" : r.reason}</code>
                </td>
                <td className="muted">{REASONS[r.reason] ?? (r.deadLettered > 0 ? "ClickHouse refused the rows" : "")}</td>
                <td className="num">{fmt(r.rejected)}</td>
                <td className="num">{fmt(r.refused)}</td>
                <td className="num">{fmt(r.deadLettered)}</td>
                <td className="num">{fmt(r.capped)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function BucketTable({ buckets, step, csv }: { buckets: readonly PipelineBucket[]; step: number; csv: string | null }) {
  const unit = step === 60 ? "minute" : step === 3600 ? "hour" : "day";
  return (
    <section className="card" aria-label={`Per ${unit}`}>
      <div className="page-head">
        <h2>Per {unit}</h2>
        {csv ? (
          <a href={csv} download>
            Export CSV
          </a>
        ) : null}
      </div>
      <table>
        <thead>
          <tr>
            <th>{unit} (UTC)</th>
            <th className="num">accepted</th>
            <th className="num">rejected</th>
            <th className="num">refused</th>
            <th className="num">dedup.</th>
            <th className="num">capped</th>
            <th className="num">flushed</th>
            <th className="num">inserted</th>
            <th className="num">redacted</th>
            <th className="num">dead-lettered</th>
            <th className="num">archive failures</th>
            <th className="num">deleted people</th>
            <th className="num">lag p50</th>
            <th className="num">lag p95</th>
            <th className="num">lag max</th>
          </tr>
        </thead>
        <tbody>
          {[...buckets].reverse().map((b) => (
            <tr key={b.t}>
              <td>{when(b.t, step)}</td>
              <td className="num">{fmt(b.counts.accepted)}</td>
              <td className="num">{fmt(b.counts.rejected)}</td>
              <td className="num">{fmt(b.counts.refused)}</td>
              <td className="num">{fmt(b.counts.deduplicated)}</td>
              <td className="num">{fmt(b.counts.capped)}</td>
              <td className="num">{fmt(b.counts.flushed)}</td>
              <td className="num">{fmt(b.counts.inserted)}</td>
              <td className="num">{fmt(b.counts.redacted)}</td>
              <td className="num">{fmt(b.counts.dead_lettered)}</td>
              <td className="num">{fmt(b.counts.archive_failed)}</td>
              <td className="num">{fmt(b.counts.suppressed)}</td>
              <td className="num">{b.lag ? seconds(b.lag.p50) : "—"}</td>
              <td className="num">{b.lag ? seconds(b.lag.p95) : "—"}</td>
              <td className="num">{b.lag ? seconds(b.lag.max) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
