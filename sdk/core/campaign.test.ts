import { describe, expect, it } from "vitest";
import { CLICK_IDS, UTM_FIELDS } from "../../schemas/touchpoints";
import { CLICK_ID_PARAMS, UTM, campaignOf } from "./campaign";

describe("campaignOf", () => {
  it("knows the parameters of the shared touchpoint vocabulary, and no others", () => {
    expect(Object.entries(UTM)).toEqual(UTM_FIELDS.map(([param, field]) => [param, field]));
    expect(CLICK_ID_PARAMS).toEqual(CLICK_IDS.map((c) => c.param));
  });

  it("reads UTM fields by Segment's names and every click id under its parameter's name", () => {
    const url = `https://shop.example/landing?ref=x&utm_source=newsletter&utm_medium=email&utm_campaign=black-friday&utm_term=shoes&utm_content=hero&${CLICK_ID_PARAMS.map((p) => `${p}=${p}-1`).join("&")}`;
    expect(campaignOf(url)).toEqual({
      source: "newsletter",
      medium: "email",
      name: "black-friday",
      term: "shoes",
      content: "hero",
      ...Object.fromEntries(CLICK_ID_PARAMS.map((p) => [p, `${p}-1`])),
    });
  });

  it("is undefined without a UTM or click-id parameter", () => {
    expect(campaignOf("https://shop.example/pricing?plan=pro")).toBeUndefined();
    expect(campaignOf("https://shop.example/")).toBeUndefined();
    expect(campaignOf("")).toBeUndefined();
    expect(campaignOf("?utm_source=&utm_id=42")).toBeUndefined();
  });

  it("gives the same campaign whatever the parameters' order, the first of a repeated one, decoded", () => {
    const a = campaignOf("?gclid=abc&utm_medium=cpc&utm_source=google&utm_source=bing");
    const b = campaignOf("?utm_source=google&utm_medium=cpc&gclid=abc");
    expect(a).toEqual({ source: "google", medium: "cpc", gclid: "abc" });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(campaignOf("?utm_campaign=summer+sale%202026&utm_content=50%")).toEqual({ name: "summer sale 2026", content: "50%" });
  });

  it("reads deep links, install referrers and a query after a hash route, and ignores the fragment", () => {
    expect(campaignOf("shop://product/42?utm_source=push&utm_medium=notification")).toEqual({ source: "push", medium: "notification" });
    expect(campaignOf("utm_source=google-play&utm_medium=organic")).toEqual({ source: "google-play", medium: "organic" });
    expect(campaignOf("https://shop.example/#/landing?utm_source=ads")).toEqual({ source: "ads" });
    expect(campaignOf("https://shop.example/?utm_source=ads#utm_medium=x")).toEqual({ source: "ads" });
  });

  it("cuts a value long enough to push the events it rides on past the edge's size limit", () => {
    expect(campaignOf(`?utm_content=${"x".repeat(40_000)}`)?.content).toHaveLength(256);
  });
});
