// An app's remote configuration is a JSON object its SDKs read with `getConfig`. A team may pin
// its shape with a JSON Schema saved beside it; every version is checked against the schema it is
// saved with, so a typo in the dashboard never reaches devices. The checker is
// @cfworker/json-schema, which interprets schemas instead of compiling them to code, as the
// Workers runtime forbids (decision record 0023).
import { Validator, type Schema } from "@cfworker/json-schema";
import type { FlagValue } from "../../schemas";
import { isRecord } from "../lib/json";

/** An app's configuration: a JSON object its SDKs read with `getConfig`. */
export type AppConfig = Record<string, FlagValue>;

/** A configuration as devices download it on every start: kept well under a mobile round trip. */
export const MAX_CONFIG_BYTES = 64 * 1024;
const MAX_SCHEMA_BYTES = 64 * 1024;
const MAX_ERRORS = 20;

export type ConfigCheck = { ok: true; config: AppConfig; schema: Schema | null } | { ok: false; errors: string[] };

const bytes = (v: unknown): number => new TextEncoder().encode(JSON.stringify(v)).length;

/**
 * Checks a configuration and its optional schema: `checkConfig({checkout: {v: 2}}, {type: "object", required: ["checkout"]})`
 * is ok; `checkConfig([], null)` is `{ok: false, errors: ["the configuration must be a JSON object"]}`.
 */
export function checkConfig(config: unknown, schema: unknown): ConfigCheck {
  if (!isRecord(config)) return { ok: false, errors: ["the configuration must be a JSON object"] };
  const size = bytes(config);
  if (size > MAX_CONFIG_BYTES) return { ok: false, errors: [`the configuration is ${size} bytes; at most ${MAX_CONFIG_BYTES} are served to devices`] };
  if (schema === null || schema === undefined) return { ok: true, config: config as AppConfig, schema: null };
  if (!isRecord(schema)) return { ok: false, errors: ["the schema must be a JSON Schema object, e.g. {\"type\": \"object\"}"] };
  if (bytes(schema) > MAX_SCHEMA_BYTES) return { ok: false, errors: [`the schema is larger than ${MAX_SCHEMA_BYTES} bytes`] };
  let result: ReturnType<Validator["validate"]>;
  try {
    result = new Validator(schema as Schema, "2020-12", false).validate(config);
  } catch (err) {
    return { ok: false, errors: [`the schema cannot be used: ${err instanceof Error ? err.message : String(err)}`] };
  }
  if (result.valid) return { ok: true, config: config as AppConfig, schema: schema as Schema };
  // The library reports each failing keyword and every schema around it; the innermost say why.
  const leaves = result.errors.filter((e) => !/^(?:properties|items|allOf|anyOf|oneOf|\$ref|prefixItems|additionalProperties|if|then|else)$/.test(e.keyword) || result.errors.length === 1);
  const messages = [...new Set((leaves.length > 0 ? leaves : result.errors).map((e) => `${e.instanceLocation === "#" ? "the configuration" : e.instanceLocation.slice(1)}: ${e.error}`))];
  return { ok: false, errors: messages.slice(0, MAX_ERRORS) };
}
