import { Form, Link, useSearchParams } from "@remix-run/react";
import type { ReactNode } from "react";
import type { Dims } from "../queries/dims";
import type { DimOptions } from "../queries/overview.server";

/**
 * A menu of a filter's values with "any" first. A value from a shared link stays selectable
 * even when the range has nothing with it.
 */
export function ValueMenu({ name, label, value, values }: { name: string; label: string; value: string; values: readonly string[] }) {
  const all = value && !values.includes(value) ? [value, ...values] : values;
  return (
    <label>
      {label}
      <select name={name} defaultValue={value} key={`${name}-${value}`}>
        <option value="">any</option>
        {all.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * Platform and country menus that narrow a view through the URL. Every other parameter of the
 * page (range…) is carried along, except `fields`, which `children` render themselves;
 * paging starts over.
 */
export function DimFilter({ dims, options, children, fields = [] }: { dims: Dims; options: DimOptions | null; children?: ReactNode; fields?: readonly string[] }) {
  const [params] = useSearchParams();
  const carried = [...params].filter(([k]) => k !== "platform" && k !== "country" && k !== "before" && !fields.includes(k));
  const cleared = new URLSearchParams(params);
  for (const k of ["platform", "country", "before"]) cleared.delete(k);
  const menu = (name: keyof Dims, label: string, values: readonly string[]) => <ValueMenu name={name} label={label} value={dims[name]} values={values} />;
  return (
    <Form method="get" className="card filters" aria-label="Filters">
      {carried.map(([k, v]) => (
        <input key={`${k}=${v}`} type="hidden" name={k} value={v} />
      ))}
      {menu("platform", "Platform", options?.platforms ?? [])}
      {menu("country", "Country", options?.countries ?? [])}
      {children}
      <button type="submit">Apply</button>
      {dims.platform || dims.country ? <Link to={`?${cleared.toString()}`}>Clear filters</Link> : null}
    </Form>
  );
}
