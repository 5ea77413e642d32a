import { describe, expect, it } from "vitest";
import { parseUserAgent, type UserAgentInfo } from "./user-agent";

const EMPTY: UserAgentInfo = {
  browser: "", browserVersion: "", os: "", osVersion: "", deviceType: "", deviceModel: "", isBot: false,
};

type Case = [label: string, ua: string, expected: Partial<UserAgentInfo>];

const browsers: Case[] = [
  ["Chrome on Windows",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    { browser: "Chrome", browserVersion: "120.0", os: "Windows", osVersion: "10", deviceType: "desktop", deviceModel: "" }],
  ["Chrome on Windows 7",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
    { browser: "Chrome", browserVersion: "109.0", os: "Windows", osVersion: "7" }],
  ["Safari on macOS",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    { browser: "Safari", browserVersion: "17.1", os: "macOS", osVersion: "10.15", deviceType: "desktop" }],
  ["Firefox on macOS",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
    { browser: "Firefox", browserVersion: "121.0", os: "macOS", osVersion: "10.15", deviceType: "desktop" }],
  ["Firefox on Linux",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    { browser: "Firefox", browserVersion: "121.0", os: "Linux", deviceType: "desktop" }],
  ["Edge on Windows (before Chrome)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    { browser: "Edge", browserVersion: "120.0", os: "Windows", deviceType: "desktop" }],
  ["Opera on Windows (before Chrome)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0",
    { browser: "Opera", browserVersion: "105.0", os: "Windows" }],
  ["Chrome on Chrome OS",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    { browser: "Chrome", browserVersion: "120.0", os: "Chrome OS", osVersion: "", deviceType: "desktop" }],
  ["Electron app (before Chrome)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.35.131 Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36",
    { browser: "Electron", browserVersion: "27.1", os: "macOS", deviceType: "desktop" }],
  ["Mobile Safari on iPhone",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    { browser: "Mobile Safari", browserVersion: "17.1", os: "iOS", osVersion: "17.1", deviceType: "mobile", deviceModel: "iPhone" }],
  ["Chrome on iPhone (CriOS before Safari)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
    { browser: "Chrome", browserVersion: "120.0", os: "iOS", osVersion: "17.1", deviceModel: "iPhone" }],
  ["Firefox on iPhone",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
    { browser: "Firefox", browserVersion: "121.0", os: "iOS", osVersion: "16.6" }],
  ["Edge on iPhone",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.0.2210.126 Mobile/15E148 Safari/605.1.15",
    { browser: "Edge", browserVersion: "120.0", os: "iOS", osVersion: "17.2" }],
  ["Safari on iPad (iPadOS)",
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    { browser: "Mobile Safari", os: "iPadOS", osVersion: "17.1", deviceType: "tablet", deviceModel: "iPad" }],
  ["Safari on old iPad (still iOS)",
    "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
    { os: "iOS", osVersion: "12.5", deviceType: "tablet", deviceModel: "iPad" }],
  ["iPad in desktop mode (Macintosh + Mobile/)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    { browser: "Mobile Safari", browserVersion: "17.2", os: "iPadOS", osVersion: "17.2", deviceType: "tablet", deviceModel: "iPad" }],
  ["Chrome on Pixel",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
    { browser: "Chrome", browserVersion: "120.0", os: "Android", osVersion: "14", deviceType: "mobile", deviceModel: "Pixel 8" }],
  ["Chrome with a reduced UA (model K)",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    { browser: "Chrome", os: "Android", osVersion: "10", deviceType: "mobile", deviceModel: "" }],
  ["Chrome on an Android tablet (no Mobile)",
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    { browser: "Chrome", os: "Android", deviceType: "tablet", deviceModel: "SM-X700" }],
  ["Samsung Internet (before Chrome)",
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    { browser: "Samsung Internet", browserVersion: "23.0", os: "Android", osVersion: "13", deviceType: "mobile", deviceModel: "SM-S918B" }],
  ["Android WebView",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36",
    { browser: "Chrome WebView", browserVersion: "120.0", os: "Android", deviceType: "mobile", deviceModel: "SM-S918B" }],
  ["Firefox on Android",
    "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
    { browser: "Firefox", os: "Android", osVersion: "14", deviceType: "mobile", deviceModel: "" }],
  ["old Android with a locale and a Build",
    "Mozilla/5.0 (Linux; U; Android 8.1.0; en-us; Nexus 5X Build/OPM7.181205.001) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36",
    { os: "Android", osVersion: "8.1", deviceModel: "Nexus 5X" }],
  ["Cubot phone is not a bot",
    "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    { browser: "Chrome", isBot: false, deviceType: "mobile", deviceModel: "CUBOT_X30" }],
  ["Samsung smart TV",
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
    { os: "Tizen", osVersion: "6.0", deviceType: "tv" }],
  ["LG webOS TV",
    "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager",
    { browser: "Chrome", os: "webOS", deviceType: "tv" }],
  ["Xbox",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02",
    { browser: "Edge", os: "Windows", deviceType: "console", deviceModel: "Xbox Series X" }],
  ["PlayStation 5",
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
    { deviceType: "console", deviceModel: "PlayStation 5" }],
];

const bots: Case[] = [
  ["Googlebot smartphone posing as Chrome",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    { browser: "Googlebot", browserVersion: "2.1", os: "", deviceType: "bot", deviceModel: "", isBot: true }],
  ["Bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", { browser: "Bingbot", browserVersion: "2.0" }],
  ["DuckDuckBot", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", { browser: "DuckDuckBot", browserVersion: "1.1" }],
  ["Baiduspider", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", { browser: "Baiduspider" }],
  ["YandexBot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", { browser: "YandexBot", browserVersion: "3.0" }],
  ["facebookexternalhit", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", { browser: "facebookexternalhit", browserVersion: "1.1" }],
  ["Twitterbot", "Twitterbot/1.0", { browser: "Twitterbot", browserVersion: "1.0" }],
  ["Slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", { browser: "Slackbot", browserVersion: "1.0" }],
  ["AhrefsBot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", { browser: "AhrefsBot", browserVersion: "7.0" }],
  ["SemrushBot", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", { browser: "SemrushBot", browserVersion: "7.0" }],
  ["GPTBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", { browser: "GPTBot", browserVersion: "1.2" }],
  ["ClaudeBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", { browser: "ClaudeBot", browserVersion: "1.0" }],
  ["generic bot", "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)", { browser: "MJ12bot", browserVersion: "1.4" }],
  ["generic crawler", "Mozilla/5.0 (compatible; SiteAuditCrawler; +https://example.com)", { browser: "SiteAuditCrawler", browserVersion: "" }],
  ["generic spider", "Bytespider; spider-feedback@bytedance.com", { browser: "Bytespider" }],
  ["headless Chrome",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36",
    { browser: "HeadlessChrome", browserVersion: "120.0" }],
];

const clients: Case[] = [
  ["curl", "curl/8.4.0", { browser: "curl", browserVersion: "8.4", deviceType: "" }],
  ["node fetch", "node", { browser: "node", browserVersion: "", deviceType: "" }],
  ["undici", "undici", { browser: "undici" }],
  ["axios", "axios/1.6.2", { browser: "axios", browserVersion: "1.6" }],
  ["python-requests", "python-requests/2.31.0", { browser: "python-requests", browserVersion: "2.31" }],
  ["okhttp (Android app)", "okhttp/4.9.2", { browser: "okhttp", browserVersion: "4.9", os: "Android", deviceType: "mobile" }],
  ["Dalvik (Android app)",
    "Dalvik/2.1.0 (Linux; U; Android 13; SM-S918B Build/TP1A.220624.014)",
    { browser: "Dalvik", browserVersion: "2.1", os: "Android", osVersion: "13", deviceType: "mobile", deviceModel: "SM-S918B" }],
  ["CFNetwork (iOS app)", "MyApp/3.2.1 CFNetwork/1474 Darwin/23.0.0",
    { browser: "CFNetwork", browserVersion: "1474.0", os: "iOS", osVersion: "17", deviceType: "mobile" }],
  ["CFNetwork on an Intel Mac", "MyApp/3.2.1 CFNetwork/1474 Darwin/23.0.0 (x86_64)",
    { browser: "CFNetwork", os: "macOS", osVersion: "", deviceType: "desktop" }],
  ["React Native on Android", "MyApp/1.0 ReactNative/0.73.1 (Android 14; Pixel 8)",
    { browser: "React Native", browserVersion: "0.73", os: "Android", osVersion: "14", deviceType: "mobile" }],
];

function check(cases: Case[]): void {
  it.each(cases)("%s", (_label, ua, expected) => {
    const info = parseUserAgent(ua);
    expect(info).toMatchObject(expected);
    expect(info.isBot).toBe(info.deviceType === "bot");
  });
}

describe("parseUserAgent", () => {
  describe("browsers and devices", () => check(browsers));
  describe("bots", () => check(bots));
  describe("HTTP clients and native apps", () => check(clients));

  it("returns an empty result for missing or blank input", () => {
    expect(parseUserAgent(undefined)).toEqual(EMPTY);
    expect(parseUserAgent(null)).toEqual(EMPTY);
    expect(parseUserAgent("")).toEqual(EMPTY);
    expect(parseUserAgent("   \t")).toEqual(EMPTY);
  });

  it("never throws on garbage or input of the wrong type", () => {
    for (const junk of ["\u0000\uffff\ud800", "(((;;;)))//", "Mozilla/", "🙂".repeat(300), "/".repeat(2000)]) {
      expect(() => parseUserAgent(junk)).not.toThrow();
    }
    expect(parseUserAgent(42 as unknown as string)).toEqual(EMPTY);
    expect(parseUserAgent("not a user agent at all").browser).toBe("");
  });

  it("only looks at the first 512 characters of huge input, quickly", () => {
    const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    expect(parseUserAgent(chrome + " ".repeat(600) + "Googlebot/2.1").isBot).toBe(false);
    const started = performance.now();
    const info = parseUserAgent("a;".repeat(500_000));
    expect(performance.now() - started).toBeLessThan(50);
    expect(info.browser).toBe("");
  });
});
