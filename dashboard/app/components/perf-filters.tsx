// The performance pages' filters: one menu per dimension, in the URL so a view can be shared.
import { Form, Link, useSearchParams } from "@remix-run/react";
import { PERF_DIMENSIONS, PERF_DIMENSION_NAMES, hasPerfFilters, type PerfDimension, type PerfFilters } from "../queries/perf";
import type { PerfOptions } from "../queries/perf.server";
import { ValueMenu } from "./dim-filter";

const OPTION_OF: Record<PerfDimension, keyof PerfOptions> = { page: "pages", release: "releases", platform: "platforms", browser: "browsers", device: "devices", country: "countries" };

export function PerfFilterForm({ filters, options }: { filters: PerfFilters; options: PerfOptions | null }) {
  const [params] = useSearchParams();
  const carried = [...params].filter(([k]) => !(PERF_DIMENSION_NAMES as string[]).includes(k));
  const cleared = new URLSearchParams(params);
  for (const d of PERF_DIMENSION_NAMES) cleared.delete(d);
  return (
    <Form method="get" className="card filters" aria-label="Filters">
      {carried.map(([k, v]) => (
        <input key={`${k}=${v}`} type="hidden" name={k} value={v} />
      ))}
      {PERF_DIMENSION_NAMES.map((d) => (
        <ValueMenu key={d} name={d} label={PERF_DIMENSIONS[d].label} value={filters[d]} values={options?.[OPTION_OF[d]] ?? []} />
      ))}
      <button type="submit">Apply</button>
      {hasPerfFilters(filters) ? <Link to={`?${cleared.toString()}`}>Clear filters</Link> : null}
    </Form>
  );
}
