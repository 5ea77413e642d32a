// Which scope each admin route asks of an API client, and that every scope a client can be given
// is asked for by some route: a scope no route checks would be a setting that does nothing.
import { describe, expect, it } from "vitest";
import { API_SCOPES } from "../../schemas";
import { ADMIN_ROUTE_SCOPES, permissionFor } from "./admin-auth";

describe("permissionFor", () => {
  it("names the scope each kind of admin route needs, and none for the operator's own", () => {
    expect(permissionFor("GET", "/apps")).toBe("data:read");
    expect(permissionFor("POST", "/apps")).toBe("app:create");
    expect(permissionFor("DELETE", "/apps/app_x")).toBe("app:delete");
    expect(permissionFor("PUT", "/apps/app_x/url-templates")).toBe("app:update");
    expect(permissionFor("POST", "/apps/app_x/keys")).toBe("key:create");
    expect(permissionFor("DELETE", "/apps/app_x/keys/key_1")).toBe("key:revoke");
    expect(permissionFor("GET", "/apps/app_x/alerts/r1/history")).toBe("data:read");
    expect(permissionFor("PATCH", "/apps/app_x/alerts/r1")).toBe("alert:update");
    expect(permissionFor("GET", "/apps/app_x/webhooks")).toBe("alert:update");
    expect(permissionFor("GET", "/apps/app_x/flags/beta/history")).toBe("data:read");
    expect(permissionFor("PUT", "/apps/app_x/config")).toBe("flag:update");
    expect(permissionFor("GET", "/apps/app_x/privacy/export")).toBe("privacy:manage");
    expect(permissionFor("GET", "/dead-letters")).toBeNull();
    expect(permissionFor("GET", "/orgs/org_1/api-clients")).toBeNull();
  });

  it("every scope a client can hold is one some route asks for", () => {
    expect([...API_SCOPES].filter((s) => !ADMIN_ROUTE_SCOPES.has(s))).toEqual([]);
  });
});
