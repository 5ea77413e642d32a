// The network views' tables: endpoints with their error split, latency and sizes; the worst
// endpoints; and one endpoint's calls sliced by release or platform.
import { Link } from "@remix-run/react";
import { encodeEndpoint, endpointLabel, ENDPOINT_SORTS, type EndpointKey, type EndpointSort } from "../queries/network-filters";
import type { CallStats, EndpointRow } from "../queries/network.server";
import { bytes, count, millis, percent } from "./format";
import { useParamLink } from "./pager";

/** An error rate, `–` without calls. */
export const rate = (r: number | null): string => (r === null ? "–" : percent(r));

/** The link to an endpoint's page, keeping the range, platform and release. */
export function useEndpointLink(app: string): (e: EndpointKey) => string {
  const withParams = useParamLink();
  return (e) =>
    `/apps/${app}/network/${encodeEndpoint(e)}${withParams((q) => {
      for (const k of ["host", "method", "sort"]) q.delete(k);
    })}`;
}

function EndpointName({ app, e }: { app: string; e: EndpointKey }) {
  const link = useEndpointLink(app);
  return (
    <Link to={link(e)} title={endpointLabel(e)}>
      <span className="badge method">{e.method || "?"}</span>
      <span className="muted">{e.host}</span>
      <code>{e.template}</code>
    </Link>
  );
}

function SortHeader({ sort, current, children }: { sort: EndpointSort; current: EndpointSort; children: string }) {
  const withParams = useParamLink();
  return (
    <th className="num" aria-sort={sort === current ? "descending" : "none"}>
      <Link to={withParams((q) => q.set("sort", sort))} title={`Sort by ${ENDPOINT_SORTS[sort].toLowerCase()}`} className={sort === current ? "sorted" : ""}>
        {children}
        {sort === current ? " ↓" : ""}
      </Link>
    </th>
  );
}

/** Every endpoint of the range with its calls, how they failed, latency and sizes. */
export function EndpointTable({ app, rows, sort }: { app: string; rows: readonly EndpointRow[]; sort: EndpointSort }) {
  return (
    <table className="events network-endpoints">
      <thead>
        <tr>
          <th>endpoint</th>
          <SortHeader sort="calls" current={sort}>
            calls
          </SortHeader>
          <SortHeader sort="errors" current={sort}>
            error rate
          </SortHeader>
          <th className="num">4xx</th>
          <th className="num">5xx</th>
          <th className="num">failed</th>
          <th className="num">timeouts</th>
          <th className="num">p50</th>
          <SortHeader sort="p95" current={sort}>
            p95
          </SortHeader>
          <th className="num">p99</th>
          <th className="num">avg request</th>
          <th className="num">avg response</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.method} ${r.host} ${r.template}`} data-endpoint={endpointLabel(r)}>
            <td className="clip">
              <EndpointName app={app} e={r} />
            </td>
            <td className="num">{count(r.calls)}</td>
            <td className="num">{rate(r.errorRate)}</td>
            <td className="num">{count(r.clientErrors)}</td>
            <td className="num">{count(r.serverErrors)}</td>
            <td className="num">{count(r.failed)}</td>
            <td className="num">{count(r.timeouts)}</td>
            <td className="num">{millis(r.p50)}</td>
            <td className="num">{millis(r.p95)}</td>
            <td className="num">{millis(r.p99)}</td>
            <td className="num">{bytes(r.avgRequestBytes)}</td>
            <td className="num">{bytes(r.avgResponseBytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A short ranked list of endpoints by one figure. */
export function WorstPanel({ app, title, rows, figure, value, empty }: { app: string; title: string; rows: readonly EndpointRow[]; figure: string; value: (r: EndpointRow) => string; empty: string }) {
  return (
    <section className="card network-worst" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>endpoint</th>
              <th className="num">{figure}</th>
              <th className="num">calls</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.method} ${r.host} ${r.template}`} data-endpoint={endpointLabel(r)}>
                <td className="clip">
                  <EndpointName app={app} e={r} />
                </td>
                <td className="num">{value(r)}</td>
                <td className="num">{count(r.calls)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** One endpoint's calls by release or platform. */
export function SliceTable({ title, label, rows }: { title: string; label: string; rows: ReadonlyArray<CallStats & { key: string }> }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">No calls in this range.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{label}</th>
              <th className="num">calls</th>
              <th className="num">error rate</th>
              <th className="num">p95</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-key={r.key}>
                <td>{r.key === "" ? <span className="muted">(none)</span> : <code>{r.key}</code>}</td>
                <td className="num">{count(r.calls)}</td>
                <td className="num">{rate(r.errorRate)}</td>
                <td className="num">{millis(r.p95)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
