/**
 * User-agent parsing for the ingest hot path. It runs once per event, so it has to cost
 * microseconds: every pattern is compiled once at module load, and the checks run in an order
 * that stops at the first decisive answer.
 */

export type DeviceType = "mobile" | "tablet" | "desktop" | "bot" | "tv" | "console" | "";

export interface UserAgentInfo {
  browser: string;
  browserVersion: string;
  os: string;
  osVersion: string;
  deviceType: DeviceType;
  deviceModel: string;
  isBot: boolean;
}

// Real user agents stay well under 300 characters. Anything longer is garbage or abuse,
// and matching it would only make the regexes slower.
const MAX_LENGTH = 512;

const NAMED_BOT =
  /\b(Googlebot|bingbot|DuckDuckBot|Baiduspider|YandexBot|facebookexternalhit|Twitterbot|Slackbot|AhrefsBot|SemrushBot|GPTBot|ClaudeBot|HeadlessChrome)(?:[\w-]*[/ ]v?(\d+)(?:\.(\d+))?)?/i;
// Crawlers spell their names in many ways ("bingbot", "Bingbot"), but dashboards group by
// exact string, so each one gets a single canonical spelling.
const BOT_NAMES: Readonly<Record<string, string>> = {
  googlebot: "Googlebot", bingbot: "Bingbot", duckduckbot: "DuckDuckBot", baiduspider: "Baiduspider",
  yandexbot: "YandexBot", facebookexternalhit: "facebookexternalhit", twitterbot: "Twitterbot",
  slackbot: "Slackbot", ahrefsbot: "AhrefsBot", semrushbot: "SemrushBot", gptbot: "GPTBot",
  claudebot: "ClaudeBot", headlesschrome: "HeadlessChrome",
};
// Cubot is an Android phone brand, and "CUBOT" in a model name must not make a phone a bot.
// Matches may only start at the beginning of a token: with \b, every hyphen inside one long
// "a-a-a-…" token would be another start point, which makes the scan quadratic.
const GENERIC_BOT = /(?<![\w-])([\w-]*?(?<!cu)(?:bot|crawler|spider))(?![a-z])(?:\/v?(\d+)(?:\.(\d+))?)?/i;

const HTTP_CLIENT = /^(curl|node|undici|axios|python-requests)(?:\/v?(\d+)(?:\.(\d+))?)?(?![\w-])/i;

// React Native first: its UAs can also carry the okhttp or CFNetwork stack underneath.
const APPS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\breact[- ]?native(?:\/v?(\d+)(?:\.(\d+))?)?/i, "React Native"],
  [/\bDalvik\/(\d+)(?:\.(\d+))?/, "Dalvik"],
  [/\bokhttp\/(\d+)(?:\.(\d+))?/i, "okhttp"],
  [/\bCFNetwork\/(\d+)(?:\.(\d+))?/, "CFNetwork"],
];
const ANDROID_APP = /okhttp|Dalvik/i;
const APPLE_APP = /CFNetwork|Darwin\//;
const DARWIN = /\bDarwin\/(\d+)/;
const IOS_TOKEN = /\biOS[ /](\d+)(?:\.(\d+))?/;
const X86_64 = /x86_64/;

const IOS_DEVICE = /\b(iPhone|iPad|iPod)\b/;
const IOS_VERSION = /\bOS (\d+)(?:_(\d+))?/;
const ANDROID = /\bAndroid(?:[ /](\d+)(?:\.(\d+))?)?/;
// " Build/…" is cut off in code: a lazy capture followed by an optional Build group
// backtracks quadratically on crafted input.
const ANDROID_MODEL = /\bAndroid[ /][\d.]+; (?:[a-z]{2}[-_][a-z]{2,3}; )?(?:samsung[ -])?([^;)]+)/i;
// Chrome's reduced UA always says "K", and Firefox puts its form factor where the model goes.
const PLACEHOLDER_MODELS: ReadonlySet<string> = new Set(["K", "Mobile", "Tablet", "TV", "wv"]);
const WINDOWS = /\bWindows(?: NT (\d+\.\d+))?/;
// Windows 11 still sends "NT 10.0"; only client hints can tell it apart from 10.
const WINDOWS_VERSIONS: Readonly<Record<string, string>> = {
  "10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.2": "XP", "5.1": "XP",
};
const CROS = /\bCrOS\b/;
const MAC = /\bMacintosh\b|\bMac OS X\b/;
const MAC_VERSION = /\bMac OS X (\d+)[_.](\d+)/;
const MOBILE_BUILD = /\bMobile\/\w/;
const TIZEN = /\bTizen[ /](\d+)(?:\.(\d+))?/;
const WEBOS = /\bWeb0S\b|\bwebOS\b/;
const LINUX = /\bLinux\b|\bX11\b/;
const MOBILE = /Mobi/;
// Deliberately case-sensitive: with /i, "AFT" (Fire TV models) would match every "After".
const TV = /SmartTV|SMART-TV|Android TV|GoogleTV|BRAVIA|\bAFT[A-Z]|HbbTV|\bRoku|AppleTV|\bCrKey\b|Web0S|\bTV Safari/;
// PS5 and Xbox repeat the family name before the model ("Xbox; Xbox One"), so the bare name
// is skipped when the specific one follows.
const CONSOLE =
  /\b(PlayStation(?!; PlayStation)(?: \d| Vita| Portable)?|Nintendo \w+|Xbox(?!; Xbox)(?: One| Series [XS])?)/;

// Every Chromium fork appends its own token to an otherwise complete Chrome UA, and every iOS
// browser to a Safari one, so forks have to be tried before the engines they are built on.
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bElectron\/(\d+)(?:\.(\d+))?/, "Electron"],
  [/\bEdg(?:e|A|iOS)?\/(\d+)(?:\.(\d+))?/, "Edge"],
  [/\b(?:OPR|OPiOS)\/(\d+)(?:\.(\d+))?/, "Opera"],
  [/\bSamsungBrowser\/(\d+)(?:\.(\d+))?/, "Samsung Internet"],
  [/\b(?:Firefox|FxiOS)\/(\d+)(?:\.(\d+))?/, "Firefox"],
  [/\b(?:Chrome|CriOS)\/(\d+)(?:\.(\d+))?/, "Chrome"],
];
const ANDROID_WEBVIEW = /; wv\)|\bVersion\/\d/;
const SAFARI = /\bSafari\//;
// Safari's "Safari/605.1.15" is the WebKit build; the release people know is in "Version/".
const SAFARI_VERSION = /\bVersion\/(\d+)(?:\.(\d+))?/;

function ver(major: string | undefined, minor: string | undefined, padMinor: boolean): string {
  if (major === undefined) return "";
  if (minor !== undefined) return `${major}.${minor}`;
  return padMinor ? `${major}.0` : major;
}

export function parseUserAgent(ua: string | undefined | null): UserAgentInfo {
  const out: UserAgentInfo = {
    browser: "", browserVersion: "", os: "", osVersion: "", deviceType: "", deviceModel: "", isBot: false,
  };
  // Callers hand over raw header values from untrusted JSON, so the type is not a promise.
  const s = typeof ua === "string" ? ua.slice(0, MAX_LENGTH).trim() : "";
  if (s === "") return out;
  if (detectBot(s, out) || detectHttpClient(s, out) || detectApp(s, out)) return out;
  detectPlatform(s, out);
  detectBrowser(s, out);
  return out;
}

// Crawlers pose as browsers ("Android … Chrome … Googlebot"), so they are checked first and
// the platform they claim is not reported: it is a disguise, not a device.
function detectBot(s: string, out: UserAgentInfo): boolean {
  const m = NAMED_BOT.exec(s) ?? GENERIC_BOT.exec(s);
  if (m === null) return false;
  const name = m[1] ?? "";
  out.browser = BOT_NAMES[name.toLowerCase()] ?? name;
  out.browserVersion = ver(m[2], m[3], true);
  out.deviceType = "bot";
  out.isBot = true;
  return true;
}

function detectHttpClient(s: string, out: UserAgentInfo): boolean {
  const m = HTTP_CLIENT.exec(s);
  if (m === null) return false;
  out.browser = (m[1] ?? "").toLowerCase();
  out.browserVersion = ver(m[2], m[3], true);
  return true;
}

// Native apps send their HTTP stack's UA, not a browser's, and rarely say which OS they run on.
function detectApp(s: string, out: UserAgentInfo): boolean {
  let m: RegExpExecArray | null = null;
  for (const [re, name] of APPS) {
    if ((m = re.exec(s)) === null) continue;
    out.browser = name;
    break;
  }
  if (m === null) return false;
  out.browserVersion = ver(m[1], m[2], true);
  detectPlatform(s, out);
  if (out.os === "" && ANDROID_APP.test(s)) {
    out.os = "Android";
  } else if (out.os === "" && APPLE_APP.test(s)) {
    // Apple Silicon Macs report arm64 exactly like iPhones, so only Intel Macs are recognisable.
    out.os = X86_64.test(s) ? "macOS" : "iOS";
    const ios = IOS_TOKEN.exec(s);
    const darwin = Number(DARWIN.exec(s)?.[1] ?? 0);
    // Darwin 17 shipped with iOS 11 and they have moved in step since; the minor does not map.
    if (out.os === "iOS") out.osVersion = ios ? ver(ios[1], ios[2], false) : darwin >= 17 ? String(darwin - 6) : "";
  }
  // Browsers drop "Mobile" on Android tablets, but app HTTP stacks never send it at all, so
  // its absence says nothing here: the SDKs mostly ship in phone apps.
  if (out.deviceType !== "tv" && out.deviceType !== "console") {
    out.deviceType = out.os === "macOS" ? "desktop" : out.deviceModel === "iPad" ? "tablet" : "mobile";
  }
  return true;
}

function detectPlatform(s: string, out: UserAgentInfo): void {
  let m: RegExpExecArray | null;
  if ((m = IOS_DEVICE.exec(s)) !== null) {
    const model = m[1] ?? "";
    const v = IOS_VERSION.exec(s);
    out.os = model === "iPad" && Number(v?.[1] ?? 0) >= 13 ? "iPadOS" : "iOS";
    out.osVersion = v ? ver(v[1], v[2], false) : "";
    out.deviceModel = model;
    out.deviceType = model === "iPad" ? "tablet" : "mobile";
  } else if ((m = ANDROID.exec(s)) !== null) {
    out.os = "Android";
    out.osVersion = ver(m[1], m[2], false);
    const raw = ANDROID_MODEL.exec(s)?.[1] ?? "";
    const build = raw.indexOf(" Build/");
    const model = (build === -1 ? raw : raw.slice(0, build)).trim();
    out.deviceModel = PLACEHOLDER_MODELS.has(model) ? "" : model;
    // Chrome and Firefox omit "Mobile" on tablets; it is the only tablet signal Android gives.
    out.deviceType = MOBILE.test(s) ? "mobile" : "tablet";
  } else if ((m = WINDOWS.exec(s)) !== null) {
    out.os = "Windows";
    out.osVersion = m[1] === undefined ? "" : (WINDOWS_VERSIONS[m[1]] ?? m[1]);
    out.deviceType = "desktop";
  } else if (CROS.test(s)) {
    // The CrOS platform number is frozen by UA reduction and means nothing to people anyway.
    out.os = "Chrome OS";
    out.deviceType = "desktop";
  } else if (MAC.test(s)) {
    if (MOBILE_BUILD.test(s)) {
      // iPadOS 13+ asks for desktop sites with a Mac UA, but WebKit on iPad keeps its
      // "Mobile/<build>" token, which no Mac sends. The Mac OS X version it claims is fake;
      // Safari's own version tracks iPadOS's. An iPad UA without that token is
      // indistinguishable from a Mac here (only navigator.maxTouchPoints can tell) and counts
      // as macOS.
      const v = SAFARI_VERSION.exec(s);
      out.os = "iPadOS";
      out.osVersion = v ? ver(v[1], v[2], false) : "";
      out.deviceModel = "iPad";
      out.deviceType = "tablet";
    } else {
      // Browsers on macOS 11+ freeze this at 10.15, so it reads as "10.15 or later".
      const v = MAC_VERSION.exec(s);
      out.os = "macOS";
      out.osVersion = v ? ver(v[1], v[2], false) : "";
      out.deviceType = "desktop";
    }
  } else if ((m = TIZEN.exec(s)) !== null) {
    out.os = "Tizen";
    out.osVersion = ver(m[1], m[2], false);
  } else if (WEBOS.test(s)) {
    out.os = "webOS";
  } else if (LINUX.test(s)) {
    out.os = "Linux";
    out.deviceType = "desktop";
  } else if (MOBILE.test(s)) {
    out.deviceType = "mobile";
  }
  if (TV.test(s)) {
    out.deviceType = "tv";
  } else if ((m = CONSOLE.exec(s)) !== null) {
    out.deviceType = "console";
    out.deviceModel = m[1] ?? "";
  }
}

function detectBrowser(s: string, out: UserAgentInfo): void {
  for (const [re, name] of BROWSERS) {
    const m = re.exec(s);
    if (m === null) continue;
    out.browser = name === "Chrome" && out.os === "Android" && ANDROID_WEBVIEW.test(s) ? "Chrome WebView" : name;
    out.browserVersion = ver(m[1], m[2], true);
    return;
  }
  if ((out.os === "iOS" || out.os === "iPadOS" || out.os === "macOS") && SAFARI.test(s)) {
    const v = SAFARI_VERSION.exec(s);
    out.browser = out.os === "macOS" ? "Safari" : "Mobile Safari";
    out.browserVersion = v ? ver(v[1], v[2], true) : "";
  }
}
