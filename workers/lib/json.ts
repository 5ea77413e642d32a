// Values parsed from clients' JSON may be anything: these say whether one is a JSON object.

/** True for a JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `v` when it is a JSON object, else an empty one. */
export function recordOf(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/**
 * `{ ...obj, [key]: value }`, built so V8 keeps it cheap: a spread copy that then grows a member
 * takes a slow path costing microseconds per object. An own `__proto__` member (which
 * `JSON.parse` can make) is copied as the spread would, as a member rather than a prototype.
 */
export function withMember(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  if (key === "__proto__" || Object.hasOwn(obj, "__proto__")) return { ...obj, [key]: value };
  const copy: Record<string, unknown> = Object.assign({}, obj);
  copy[key] = value;
  return copy;
}

/**
 * `{ ...base, ...own }` without its undefined members, built so V8 keeps it cheap: members are
 * copied once into the object that is kept, where a spread copy would then grow on a slow path.
 */
export function mergeDefined(base: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in base) {
    const v = base[k];
    if (k === "__proto__") return definedOf({ ...base, ...own });
    if (v !== undefined) out[k] = v;
  }
  for (const k in own) {
    const v = own[k];
    // Rare, so built as written: an own member left undefined hides the base one of its name, and
    // one the base holds undefined takes the base's place in the order.
    if (k === "__proto__" || (v === undefined ? Object.hasOwn(out, k) : !Object.hasOwn(out, k) && Object.hasOwn(base, k))) return definedOf({ ...base, ...own });
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function definedOf(obj: Record<string, unknown>): Record<string, unknown> {
  return without(obj, undefined);
}

/**
 * `o` without its members whose value is `drop` (`null` or `undefined`): `o` itself when it has
 * none, else a copy. Deleting them instead would leave a dictionary-mode object, several times
 * slower to read and to serialize for the rest of its way. An own member named `__proto__`
 * (`JSON.parse` makes them) stays a member of the copy, not its prototype.
 */
export function without<T extends Record<string, unknown>>(o: T, drop: null | undefined): T {
  // for…in walks the keys without allocating a list of them.
  let found = false;
  for (const k in o) {
    if (o[k] === drop) {
      found = true;
      break;
    }
  }
  if (!found) return o;
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v === drop) continue;
    if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out as T;
}
