// Crashes for the query benchmark, generated inside ClickHouse from numbers() and inserted into
// `events` like any batch, so the crash_issues_hourly view fills as in production: by default
// 1 million crashes of one app over 30 days, in 10,000 issues with a long tail (issue k is drawn
// with probability about 1/(k+1): the head issue has some 7.5 % of the crashes, the last ones
// a handful each), from 200,000 devices in five visits each, several releases and platforms.

/** The fingerprint of the benchmark's issue number `k` (0 is the most frequent). */
export const benchIssue = (k: number): string => `bx${String(k).padStart(5, "0")}`;

/** An INSERT … SELECT of crashes numbered {offset} to {offset} + {count} for `app`. */
export function crashesSql(app: string, issues: number, days: number): string {
  const r = (salt: number) => `cityHash64(number, ${salt})`;
  return `
INSERT INTO events (app_id, type, event, message_id, user_id, anonymous_id, session_id, timestamp, original_timestamp, sent_at, received_at,
  platform, os_name, os_version, app_version, device_type, device_model, browser, browser_version, library_name, library_version, country,
  crash_type, crash_message, crash_fingerprint, crash_fatal, properties, traits, context, batch_id)
SELECT
  '${app.replace(/[^\w-]/g, "")}', 'crash', crash_type, concat('crash-', toString(number)), user_id, anonymous_id, session_id, ts, ts, ts + 0.2, ts + 0.25,
  platform, os_name, os_version, app_version, device_type, device_model, browser, browser_version, 'telemetry-web', '1.4.2', country,
  crash_type, message, concat('bx', leftPad(toString(k), 5, '0')), toUInt8(${r(41)} % 5 = 0),
  concat('{"environment":"', ['production', 'production', 'production', 'staging'][${r(42)} % 4 + 1], '","error":{"type":"', crash_type,
         '","message":"', message, '","frames":[',
         '{"function":"', fn, '","file":"src/', module, '.ts","line":', toString(k % 500 + 1), ',"column":', toString(k % 80 + 1), ',"inApp":true},',
         '{"function":"dispatch","file":"src/app/router.ts","line":88,"column":12,"inApp":true},',
         '{"function":"invokeGuardedCallback","file":"node_modules/react-dom/cjs/react-dom.production.js","line":4213,"inApp":false}]}}'),
  '{}', '{}', concat('crashes:', toString(intDiv(number, 2000)))
FROM (
  SELECT number,
    -- log-uniform over [1, issues): P(k) ~ 1/(k+1), a Zipf-like long tail.
    toUInt32(floor(pow(${issues}, (${r(31)} % 1000000) / 1000000.0))) - 1 AS k,
    ['TypeError', 'RangeError', 'NetworkError', 'ReferenceError', 'SyntaxError', 'NullPointerException'][k % 6 + 1] AS crash_type,
    concat('Cannot read properties of undefined (reading field', toString(k), ')') AS message,
    concat('handle', toString(k)) AS fn,
    concat('features/module', toString(k % 300)) AS module,
    ${r(32)} % 200000 AS device,
    if(device % 10 < 4, concat('user-', toString(device)), '') AS user_id,
    concat('anon-', toString(device)) AS anonymous_id,
    ${r(33)} % 5 AS visit,
    concat('s-', toString(device), '-', toString(visit)) AS session_id,
    toDateTime64(now64(3) - toIntervalMillisecond(1800000 + cityHash64(device, visit) % (${days} * 86400000 - 1800000)) + toIntervalMillisecond(${r(34)} % 1800000), 3, 'UTC') AS ts,
    ['web', 'web', 'ios', 'android', 'react-native'][device % 5 + 1] AS platform,
    multiIf(platform = 'ios', 'iOS', platform = 'android', 'Android', ['macOS', 'Windows', 'Linux'][device % 3 + 1]) AS os_name,
    ['17.1', '14', '10.15.7', '11'][device % 4 + 1] AS os_version,
    -- A new release every five days.
    ['2.4.0', '2.4.1', '2.5.0', '3.0.0', '3.0.1', '3.1.0'][least(5, intDiv(${days} - dateDiff('day', ts, now64(3)), 5)) + 1] AS app_version,
    ['desktop', 'mobile', 'tablet'][device % 3 + 1] AS device_type,
    ['', 'iPhone15,2', 'Pixel 8', 'SM-S918B'][device % 4 + 1] AS device_model,
    ['Chrome', 'Safari', 'Firefox', 'Edge'][device % 4 + 1] AS browser,
    ['120', '17', '121', '119'][device % 4 + 1] AS browser_version,
    ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'CA', 'NL', 'ES'][toUInt32(sqrt(device % 100)) + 1] AS country
  FROM numbers({offset:UInt64}, {count:UInt64})
)`;
}
