import { Form } from "@remix-run/react";
import { useEffect, useState, type ChangeEvent, type ReactNode } from "react";
import { fromDraft, newCondition, newRule, splitProblem, type Draft } from "../flags/draft";
import { CsrfField } from "./csrf";
import { ConditionRow, ServeEditor } from "./flag-editor-rows";

interface Props {
  draft: Draft;
  /** The version the page was loaded at: a save applies only to it. */
  version: number;
  /** The server's problems with the last save, `path: message`. */
  problems: readonly string[];
  /** What was posted without JavaScript, given back with its problems so nothing typed is lost. */
  posted?: string | undefined;
}

function Problems({ lines }: { lines: readonly string[] }) {
  if (lines.length === 0) return null;
  return (
    <ul className="error problems" role="alert">
      {lines.map((l) => (
        <li key={l}>{l}</li>
      ))}
    </ul>
  );
}

/** The problems whose path starts with `prefix` (`rules.2`), said without it. */
function problemsAt(problems: readonly string[], prefix: string, exact = false): string[] {
  return problems.flatMap((line) => {
    const { path, message } = splitProblem(line);
    const hit = exact ? path === prefix : path === prefix || path.startsWith(`${prefix}.`);
    if (!hit) return [];
    const rest = path.slice(prefix.length + 1);
    return [rest ? `${rest}: ${message}` : message];
  });
}

function Section({ title, children, problems }: { title: string; children: ReactNode; problems: string[] }) {
  return (
    <section className="flag-section" aria-label={title}>
      <h3>{title}</h3>
      {children}
      <Problems lines={problems} />
    </section>
  );
}

/**
 * The whole flag in one form. It posts the definition as JSON (`flag`), which the server checks
 * with the Flag schema; without JavaScript that JSON is the form, in a textarea. Once the page
 * runs, the structured editor below writes it, and names any variant value that is not JSON
 * before anything is posted.
 */
export function FlagEditor({ draft: initial, version, problems, posted }: Props) {
  const [hydrated, setHydrated] = useState(false);
  const [draft, setDraft] = useState(initial);
  useEffect(() => setHydrated(true), []);
  const edit = (fn: (d: Draft) => void) =>
    setDraft((d) => {
      const copy = structuredClone(d);
      fn(copy);
      return copy;
    });
  // The value is read while the event is current: React clears currentTarget before an updater runs.
  const set = (fn: (d: Draft, value: string) => void) => (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
    const value = e.currentTarget.value;
    edit((d) => fn(d, value));
  };
  const setEnabled = (on: boolean) => edit((d) => void (d.enabled = on));
  const built = fromDraft(draft);
  const json = "flag" in built ? JSON.stringify(built.flag) : "";
  const keys = draft.variants.map((v) => v.key.trim()).filter((k) => k !== "");
  const general = problems.filter((p) => !/^(variants|rules|fallthrough|offVariant)\b/.test(splitProblem(p).path));

  return (
    <Form method="post" aria-label="Edit flag" className="flag-editor">
      <CsrfField />
      <input type="hidden" name="intent" value="save" />
      <input type="hidden" name="version" value={version} />
      {!hydrated ? (
        <label>
          Definition (JSON)
          <textarea name="flag" defaultValue={posted ?? JSON.stringify("flag" in built ? built.flag : {}, null, 2)} rows={20} className="code" />
        </label>
      ) : (
        <>
          <input type="hidden" name="flag" value={json} />
          <div className="flag-basics">
            <label>
              Name
              <input value={draft.name} maxLength={100} required onChange={set((d, v) => void (d.name = v))} />
            </label>
            <label>
              Description
              <input value={draft.description} maxLength={1000} className="wide" onChange={set((d, v) => void (d.description = v))} />
            </label>
            <label className="toggle">
              <input type="checkbox" checked={draft.enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
              On (off is the kill switch: everyone gets the off variant)
            </label>
          </div>
          <Problems lines={general} />

          <Section title="Variants" problems={problemsAt(problems, "variants").concat("errors" in built ? built.errors.map((e) => e.replace(/^variants\./, "")) : [])}>
            <table className="flag-variants">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Value (JSON)</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {draft.variants.map((v, i) => (
                  <tr key={i}>
                    <td>
                      <input aria-label={`Variant ${i + 1} key`} value={v.key} onChange={set((d, text) => void (d.variants[i] = { key: text, value: v.value }))} />
                    </td>
                    <td>
                      <input aria-label={`Variant ${i + 1} value`} value={v.value} className="code wide" onChange={set((d, text) => void (d.variants[i] = { key: v.key, value: text }))} />
                    </td>
                    <td>
                      <button type="button" className="link-button" disabled={draft.variants.length <= 1} onClick={() => edit((d) => void d.variants.splice(i, 1))}>
                        remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <button type="button" className="secondary" onClick={() => edit((d) => void d.variants.push({ key: `variant-${d.variants.length + 1}`, value: '""' }))}>
              Add variant
            </button>
          </Section>

          <Section title="Rules, in order: the first that serves a user decides" problems={problemsAt(problems, "rules", true)}>
            {draft.rules.length === 0 ? <p className="muted small">No rules: everyone gets the fallthrough.</p> : null}
            <ol className="flag-rules">
              {draft.rules.map((r, i) => {
                const label = `Rule ${i + 1}`;
                return (
                  <li key={i} className="flag-rule" aria-label={label}>
                    <div className="flag-rule-head">
                      <strong>{label}</strong>
                      <input aria-label={`${label} description`} placeholder="what it is for (optional)" value={r.description} onChange={set((d, v) => void ((d.rules[i] ?? r).description = v))} />
                      <span className="spacer" />
                      <button type="button" className="link-button" disabled={i === 0} onClick={() => edit((d) => void d.rules.splice(i - 1, 2, d.rules[i] ?? r, d.rules[i - 1] ?? r))}>
                        move up
                      </button>
                      <button type="button" className="link-button" disabled={i === draft.rules.length - 1} onClick={() => edit((d) => void d.rules.splice(i, 2, d.rules[i + 1] ?? r, d.rules[i] ?? r))}>
                        move down
                      </button>
                      <button type="button" className="link-button danger-text" onClick={() => edit((d) => void d.rules.splice(i, 1))}>
                        remove rule
                      </button>
                    </div>
                    <div className="flag-conditions">
                      <span className="muted small">{r.conditions.length === 0 ? "For everyone" : "For users where all of these hold:"}</span>
                      {r.conditions.map((c, j) => (
                        <ConditionRow
                          key={j}
                          c={c}
                          label={`${label} condition ${j + 1}`}
                          onChange={(next) => edit((d) => void ((d.rules[i] ?? r).conditions[j] = next))}
                          onRemove={() => edit((d) => void (d.rules[i] ?? r).conditions.splice(j, 1))}
                        />
                      ))}
                      <button type="button" className="secondary small-button" onClick={() => edit((d) => void (d.rules[i] ?? r).conditions.push(newCondition()))}>
                        Add condition
                      </button>
                    </div>
                    <div className="flag-rule-serve">
                      <span>
                        Roll out to{" "}
                        <input aria-label={`${label} rollout %`} type="number" min={0} max={100} step="any" className="pct" value={r.rollout} onChange={set((d, v) => void ((d.rules[i] ?? r).rollout = v))} /> % of
                        them, serving
                      </span>
                      <ServeEditor serve={r.serve} label={`${label} serve`} variants={keys} onChange={(s) => edit((d) => void ((d.rules[i] ?? r).serve = s))} />
                    </div>
                    <Problems lines={problemsAt(problems, `rules.${i}`)} />
                  </li>
                );
              })}
            </ol>
            <button type="button" className="secondary" onClick={() => edit((d) => void d.rules.push(newRule(keys[0] ?? "")))}>
              Add rule
            </button>
          </Section>

          <Section title="Everyone else (the fallthrough)" problems={problemsAt(problems, "fallthrough")}>
            <ServeEditor serve={draft.fallthrough} label="Fallthrough" variants={keys} onChange={(s) => edit((d) => void (d.fallthrough = s))} />
          </Section>

          <Section title="When switched off, serve" problems={problemsAt(problems, "offVariant")}>
            <select aria-label="Off variant" value={draft.offVariant} onChange={set((d, v) => void (d.offVariant = v))}>
              {keys.includes(draft.offVariant) ? null : <option value={draft.offVariant}>{draft.offVariant || "(choose)"}</option>}
              {keys.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </Section>
        </>
      )}
      <div className="inline-form">
        <button type="submit" disabled={hydrated && !("flag" in built)}>
          Save flag
        </button>
        <span className="muted small">Saves over version {version} only: if someone else saved meanwhile, nothing is overwritten.</span>
      </div>
    </Form>
  );
}
