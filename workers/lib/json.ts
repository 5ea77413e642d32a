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
