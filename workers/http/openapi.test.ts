// The OpenAPI document validates against the OpenAPI 3.1 schema (the official JSON Schemas, via
// @seriousme/openapi-schema-validator), and every operation says how it is authenticated.
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "./openapi";

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(openApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("lists the flag routes with the zod schema the admin API validates with", () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    const ref = doc.paths["/admin/apps/{app}/flags"]?.post?.requestBody?.content["application/json"]?.schema.$ref ?? "";
    expect(ref).toBe("#/components/schemas/Flag");
    expect(Object.keys(doc.components.schemas.Flag?.properties ?? {})).toEqual(expect.arrayContaining(["key", "variants", "rules", "fallthrough", "offVariant", "enabled"]));
  });
});
