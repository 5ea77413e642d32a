import { FLAG_ATTRIBUTES } from "../../../schemas/flags";
import { CONDITION_OPS, isAttribute, isOp, opSubject, type DraftCondition, type DraftServe } from "../flags/draft";

const TRAIT = "trait";

/** One condition of a rule: what it tests (an attribute, or a trait by name), how, and against what. */
export function ConditionRow({ c, label, onChange, onRemove }: { c: DraftCondition; label: string; onChange: (c: DraftCondition) => void; onRemove: () => void }) {
  const subject = c.on === "attribute" ? c.attribute : TRAIT;
  const ops = CONDITION_OPS.filter((o) => (subject === TRAIT ? o.op !== "semver" : opSubject(o.op) === "either" || (o.op === "semver" && subject === "app_version")));
  const pickSubject = (s: string) => {
    if (s === TRAIT) onChange({ ...c, on: "trait", op: c.op === "semver" ? "in" : c.op });
    else if (isAttribute(s)) onChange({ ...c, on: "attribute", attribute: s, op: c.op === "semver" && s === "app_version" ? "semver" : opSubject(c.op) === "either" ? c.op : "in" });
  };
  const kind = opSubject(c.op);
  const placeholder = c.op === "in" || c.op === "not_in" ? "pro, max" : c.op === "semver" ? ">=2.1.0 <3" : c.op === "contains" ? "@example.com" : "18";
  return (
    <div className="flag-condition" role="group" aria-label={label}>
      <select aria-label={`${label} subject`} value={subject} onChange={(e) => pickSubject(e.currentTarget.value)}>
        {FLAG_ATTRIBUTES.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
        <option value={TRAIT}>trait…</option>
      </select>
      {c.on === "trait" ? <input aria-label={`${label} trait`} value={c.trait} placeholder="plan" onChange={(e) => onChange({ ...c, trait: e.currentTarget.value })} className="short" /> : null}
      <select aria-label={`${label} operator`} value={c.op} onChange={(e) => (isOp(e.currentTarget.value) ? onChange({ ...c, op: e.currentTarget.value }) : undefined)}>
        {ops.map((o) => (
          <option key={o.op} value={o.op}>
            {o.label}
          </option>
        ))}
      </select>
      {c.op === "exists" || c.op === "not_exists" ? null : (
        <input
          aria-label={`${label} ${kind === "either" ? "values" : kind === "app_version" ? "range" : "value"}`}
          value={c.value}
          placeholder={placeholder}
          type={["gt", "gte", "lt", "lte"].includes(c.op) ? "number" : "text"}
          step="any"
          onChange={(e) => onChange({ ...c, value: e.currentTarget.value })}
        />
      )}
      <button type="button" className="link-button" onClick={onRemove} aria-label={`Remove ${label.toLowerCase()}`}>
        remove
      </button>
    </div>
  );
}

/** What a rule or the fallthrough serves: one variant, or a weighted split of them. */
export function ServeEditor({ serve, label, variants, onChange }: { serve: DraftServe; label: string; variants: readonly string[]; onChange: (s: DraftServe) => void }) {
  const options = variants.map((v) => (
    <option key={v} value={v}>
      {v}
    </option>
  ));
  const total = serve.split.reduce((n, s) => n + (Number(s.weight) || 0), 0);
  return (
    <div className="flag-serve" role="group" aria-label={label}>
      <select
        aria-label={`${label} kind`}
        value={serve.mode}
        onChange={(e) =>
          onChange(
            e.currentTarget.value === "split"
              ? { ...serve, mode: "split", split: serve.split.length > 0 ? serve.split : variants.slice(0, 2).map((v, i, all) => ({ variant: v, weight: String(i === 0 ? 100 - Math.floor(100 / all.length) * (all.length - 1) : Math.floor(100 / all.length)) })) }
              : { ...serve, mode: "variant" },
          )
        }
      >
        <option value="variant">one variant</option>
        <option value="split">a weighted split</option>
      </select>
      {serve.mode === "variant" ? (
        <select aria-label={`${label} variant`} value={serve.variant} onChange={(e) => onChange({ ...serve, variant: e.currentTarget.value })}>
          {variants.includes(serve.variant) ? null : <option value={serve.variant}>{serve.variant || "(choose)"}</option>}
          {options}
        </select>
      ) : (
        <span className="flag-split">
          {serve.split.map((s, i) => (
            <span key={i} className="flag-split-part">
              <select aria-label={`${label} split ${i + 1} variant`} value={s.variant} onChange={(e) => onChange({ ...serve, split: serve.split.map((x, j) => (j === i ? { ...x, variant: e.currentTarget.value } : x)) })}>
                {variants.includes(s.variant) ? null : <option value={s.variant}>{s.variant || "(choose)"}</option>}
                {options}
              </select>
              <input
                aria-label={`${label} split ${i + 1} weight`}
                type="number"
                min={0}
                max={100}
                step="any"
                value={s.weight}
                className="pct"
                onChange={(e) => onChange({ ...serve, split: serve.split.map((x, j) => (j === i ? { ...x, weight: e.currentTarget.value } : x)) })}
              />
              %
              <button type="button" className="link-button" aria-label={`Remove split ${i + 1}`} onClick={() => onChange({ ...serve, split: serve.split.filter((_, j) => j !== i) })}>
                ×
              </button>
            </span>
          ))}
          <button type="button" className="link-button" onClick={() => onChange({ ...serve, split: [...serve.split, { variant: variants[0] ?? "", weight: "0" }] })}>
            add a variant
          </button>
          <span className={Math.abs(total - 100) > 1e-9 ? "error small" : "muted small"}>total {total} %</span>
        </span>
      )}
    </div>
  );
}
