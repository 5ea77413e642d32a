import { BREAKDOWN_DIMS, MAX_TOP, type Breakdown } from "../../insights/breakdown";

/** The breakdown's three fields of an insight form (`breakdown`, `breakdown_prop`, `top`), as breakdown.ts reads them. */
export function BreakdownFields({ breakdown, top }: { breakdown: Breakdown; top: number }) {
  const selected = breakdown.kind === "dim" ? breakdown.dim : breakdown.kind;
  const prop = breakdown.kind === "prop" ? breakdown.key : "";
  return (
    <>
      <label>
        Breakdown
        <select name="breakdown" defaultValue={selected} key={`b-${selected}`}>
          <option value="none">none</option>
          {Object.entries(BREAKDOWN_DIMS).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
          <option value="prop">a property…</option>
        </select>
      </label>
      <label>
        Breakdown property
        <input name="breakdown_prop" defaultValue={prop} key={`bp-${prop}`} placeholder="e.g. plan" />
      </label>
      <label>
        Top
        <input name="top" type="number" min={1} max={MAX_TOP} defaultValue={top} key={`top-${top}`} style={{ width: "5rem" }} />
      </label>
    </>
  );
}
