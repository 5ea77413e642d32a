// The attribution settings form: a row of fields per conversion (plus an empty one to add), the
// lookback windows and the half-life, read back into AttributionSettings with the schema's
// messages naming the row at fault.
import { AttributionSettings, MAX_CONVERSIONS, type Conversion } from "../../../schemas";

/** What the form sends for one conversion row, as typed. */
export interface ConversionFields {
  id: string;
  name: string;
  event: string;
  whereProp: string;
  whereEquals: string;
  revenueProp: string;
  currencyProp: string;
  currency: string;
  once: boolean;
}

export const toFields = (c: Conversion): ConversionFields => ({
  id: c.id,
  name: c.name,
  event: c.event,
  whereProp: c.where?.prop ?? "",
  whereEquals: c.where?.equals ?? "",
  revenueProp: c.revenueProp ?? "",
  currencyProp: c.currencyProp ?? "",
  currency: c.currency ?? "",
  once: c.once,
});

export const EMPTY_ROW: ConversionFields = { id: "", name: "", event: "", whereProp: "", whereEquals: "", revenueProp: "", currencyProp: "", currency: "", once: false };

/** An id from a name: lowercase letters and digits joined by "-", unique among `taken`. */
function idFrom(name: string, taken: Set<string>): string {
  const stem = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 32) || "conversion";
  let id = stem;
  for (let n = 2; taken.has(id); n++) id = `${stem}-${n}`;
  taken.add(id);
  return id;
}

const text = (form: FormData, name: string): string => {
  const v = form.get(name);
  return typeof v === "string" ? v.trim() : "";
};

/** The form's rows as typed (for showing them again after a refusal), dropping rows left empty or marked removed. */
export function readRows(form: FormData): ConversionFields[] {
  const n = Math.min(MAX_CONVERSIONS + 1, Math.max(0, Number(text(form, "rows")) || 0));
  const rows: ConversionFields[] = [];
  for (let i = 0; i < n; i++) {
    if (form.get(`c${i}.remove`) === "on") continue;
    const row: ConversionFields = {
      id: text(form, `c${i}.id`),
      name: text(form, `c${i}.name`),
      event: text(form, `c${i}.event`),
      whereProp: text(form, `c${i}.whereProp`),
      whereEquals: text(form, `c${i}.whereEquals`),
      revenueProp: text(form, `c${i}.revenueProp`),
      currencyProp: text(form, `c${i}.currencyProp`),
      currency: text(form, `c${i}.currency`).toUpperCase(),
      once: form.get(`c${i}.once`) === "on",
    };
    if (row.name === "" && row.event === "" && row.whereProp === "" && row.revenueProp === "") continue;
    rows.push(row);
  }
  return rows;
}

/** The settings the form describes, or what is wrong with it in words. */
export function parseSettingsForm(form: FormData): { settings: AttributionSettings } | { error: string; rows: ConversionFields[] } {
  const rows = readRows(form);
  const taken = new Set(rows.map((r) => r.id).filter((id) => id !== ""));
  const conversions = rows.map((r) => ({
    id: r.id === "" ? idFrom(r.name || r.event, taken) : r.id,
    name: r.name || r.event,
    event: r.event,
    ...(r.whereProp !== "" ? { where: { prop: r.whereProp, equals: r.whereEquals } } : {}),
    ...(r.revenueProp !== "" ? { revenueProp: r.revenueProp } : {}),
    ...(r.currencyProp !== "" ? { currencyProp: r.currencyProp } : {}),
    ...(r.currency !== "" ? { currency: r.currency } : {}),
    once: r.once,
  }));
  const parsed = AttributionSettings.safeParse({
    conversions,
    clickWindowDays: Number(text(form, "clickWindowDays")),
    viewWindowHours: Number(text(form, "viewWindowHours")),
    halfLifeDays: Number(text(form, "halfLifeDays")),
  });
  if (parsed.success) return { settings: parsed.data };
  const issue = parsed.error.issues[0];
  const [field, index, key] = issue?.path ?? [];
  const where =
    field === "conversions" && typeof index === "number"
      ? `Conversion ${index + 1} (${conversions[index]?.name || "unnamed"})${typeof key === "string" ? `, ${key}` : ""}: `
      : field === "clickWindowDays"
        ? "Click window (days, 1 to 90): "
        : field === "viewWindowHours"
          ? "View window (hours, 1 to 720): "
          : field === "halfLifeDays"
            ? "Half-life (days, 0.5 to 90): "
            : "";
  return { error: `${where}${issue?.message ?? "the settings are not valid"}.`, rows };
}
