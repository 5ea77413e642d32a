import { describe, expect, it } from "vitest";
import { templatePath } from "./url-template";

describe("automatic path templates", () => {
  it.each([
    // REST APIs
    ["/api/v1/users/42", "/api/v1/users/:id"],
    ["/api/v2/users/42/orders/1337/items", "/api/v2/users/:id/orders/:id/items"],
    ["/v1/accounts/3f2504e0-4f89-11d3-9a0c-0305e82c3301/invoices", "/v1/accounts/:uuid/invoices"],
    ["/v1/accounts/3F2504E0-4F89-11D3-9A0C-0305E82C3301", "/v1/accounts/:uuid"],
    ["/repos/acme/web/commits/9fceb02d0ae598e95dc970b74767f19372d61af8", "/repos/acme/web/commits/:hash"],
    ["/objects/d41d8cd98f00b204e9800998ecf8427e", "/objects/:hash"],
    ["/builds/a1b2c3d4", "/builds/:hash"],
    ["/reset/Zk9xT2ZaQ3d5bUhyN3FwLWxT", "/reset/:token"],
    ["/invite/aB3dE5fG7hI9jK1lM3nO", "/invite/:token"],
    ["/reports/2024-01-15", "/reports/:date"],
    ["/events/2024-01-15T10:30:00Z/attendees", "/events/:date/attendees"],
    ["/customers/user_12345/cart", "/customers/:id/cart"],
    ["/invoices/INV-2024-0001/pdf", "/invoices/:id/pdf"],
    ["/orders/ord-88213377", "/orders/:id"],
    ["/users/42/", "/users/:id/"],
    // already redacted values stay as their placeholder
    ["/users/[email]/settings", "/users/[email]/settings"],
    ["/users/[email:9f86d081884c7d65]/settings", "/users/[email]/settings"],
    ["/lookup/[phone:0123456789abcdef]", "/lookup/[phone]"],
    // ordinary segments survive
    ["/api/v1/graphql", "/api/v1/graphql"],
    ["/graphql", "/graphql"],
    ["/en-US/docs/index.html", "/en-US/docs/index.html"],
    ["/auth/2fa/verify", "/auth/2fa/verify"],
    ["/oauth2/callback", "/oauth2/callback"],
    ["/media/h264/clip.mp4", "/media/h264/clip.mp4"],
    ["/s3/ec2/web3", "/s3/ec2/web3"],
    ["/api/v2", "/api/v2"],
    ["/blog/react-18-release-notes-2024", "/blog/react-18-release-notes-2024"],
    ["/downloads/app-1.2.3.dmg", "/downloads/app-1.2.3.dmg"],
    ["/reviews/iphone15-pro-max-review", "/reviews/iphone15-pro-max-review"],
    ["/reviews/iPhone15-Pro-Max-Review", "/reviews/iPhone15-Pro-Max-Review"],
    ["/api/v1.2/items", "/api/v1.2/items"],
    ["/docs/3.14", "/docs/3.14"],
    ["/items/42.json", "/items/:id.json"],
    ["/", "/"],
    ["", ""],
    ["Checkout", "Checkout"],
    // CDN assets with content hashes
    ["/static/js/main.3f9a2b1c.chunk.js", "/static/js/main.:hash.chunk.js"],
    ["/_next/static/chunks/pages/index-3f9a2b1c4d5e6f70.js", "/_next/static/chunks/pages/index-:hash.js"],
    ["/_next/static/Xk3m9QpL2vR8sT1uW4yZ6/_buildManifest.js", "/_next/static/:token/_buildManifest.js"],
    ["/assets/logo.5d41402abc4b2a76b9719d911017c592.svg", "/assets/logo.:hash.svg"],
    ["/photos/IMG_20240115_093012.jpg", "/photos/IMG_:id_:id.jpg"],
    ["/avatars/3f2504e0-4f89-11d3-9a0c-0305e82c3301.png", "/avatars/:uuid.png"],
    // S3 keys
    ["/uploads/2024/01/15/9fceb02d0ae598e9.pdf", "/uploads/:id/:id/:id/:hash.pdf"],
    ["/bucket/tenants/8812/exports/2024-01-15.csv", "/bucket/tenants/:id/exports/:date.csv"],
    // Next.js routes as the browser sees them
    ["/_next/data/build123/products/88123.json", "/_next/data/build123/products/:id.json"],
    ["/products/88123/reviews", "/products/:id/reviews"],
  ])("%s → %s", (path, want) => {
    expect(templatePath(path, [])).toBe(want);
  });

  it("collapses random base64url tokens that hold a digit, whatever their separators", () => {
    // A fixed linear congruential sequence: the same tokens every run.
    let seed = 20261201;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const kept: string[] = [];
    for (let i = 0; i < 500; i++) {
      const chars = Array.from({ length: 16 + next(17) }, () => alphabet[next(64)] ?? "a");
      chars[next(chars.length)] = String(next(10));
      const t = chars.join("");
      if (templatePath(`/s/${t}`, []) === `/s/${t}`) kept.push(t);
    }
    expect(kept).toEqual([]);
  });

  it("hands back the very same string when there is nothing to collapse", () => {
    const path = "/api/v1/graphql".slice(0);
    expect(templatePath(path, [])).toBe(path);
  });
});

describe("an app's own templates", () => {
  const overrides = ["/api/orgs/:org/files/**", "/v2/*/items", "/v2/:region/items/:item", "/shop/:slug", "/health"];

  it.each([
    ["/api/orgs/acme/files/a/b/c.png", "/api/orgs/:org/files/**"],
    ["/api/orgs/42/files", "/api/orgs/:org/files/**"],
    // `*` keeps a meaningful segment as sent, even one that looks like an id
    ["/v2/eu-west-1/items", "/v2/eu-west-1/items"],
    ["/v2/12345/items", "/v2/12345/items"],
    ["/v2/eu/items/88123", "/v2/:region/items/:item"],
    ["/shop/summer-sale", "/shop/:slug"],
    ["/health/", "/health"],
    // no override matches: automatic rules
    ["/shop/summer-sale/88123", "/shop/summer-sale/:id"],
    ["/api/orgs/42", "/api/orgs/:id"],
    ["/v2/eu/items/88123/extra", "/v2/eu/items/:id/extra"],
  ])("%s → %s", (path, want) => {
    expect(templatePath(path, overrides)).toBe(want);
  });

  it("tries the templates in order: the first that matches wins", () => {
    expect(templatePath("/v2/eu/items", ["/v2/:region/items", "/v2/*/items"])).toBe("/v2/:region/items");
    expect(templatePath("/v2/eu/items", ["/v2/*/items", "/v2/:region/items"])).toBe("/v2/eu/items");
  });

  it("a :name segment needs something there", () => {
    expect(templatePath("/shop//", ["/shop/:slug/"])).toBe("/shop//");
  });

  it("reads a changed list of templates afresh", () => {
    expect(templatePath("/a/1", ["/a/:x"])).toBe("/a/:x");
    expect(templatePath("/a/1", ["/a/*"])).toBe("/a/1");
  });
});
