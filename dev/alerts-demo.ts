// `npm run demo:alerts`, beside a running `npm start`: a local webhook receiver that verifies each
// request with the Standard Webhooks library, an endpoint and a rule "more than 5 Checkout Failed
// in 1 minute" made through the admin API, six such events sent with the demo write key, and
// every webhook printed as it arrives until the rule has fired and resolved. A second endpoint
// that answers 500 shows the retries in its delivery log.
import { createServer, type IncomingMessage } from "node:http";
import { Webhook } from "standardwebhooks";
import { DEMO_APP_ID, DEMO_WRITE_KEY, LOCAL_ADMIN_TOKEN } from "./local";

const edge = process.env.EDGE_URL ?? "http://127.0.0.1:8787";
const adminToken = process.env.ADMIN_TOKEN ?? LOCAL_ADMIN_TOKEN;
const app = process.env.APP_ID ?? DEMO_APP_ID;
const writeKey = process.env.WRITE_KEY ?? DEMO_WRITE_KEY;

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${edge}/admin/apps/${app}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

const read = (req: IncomingMessage): Promise<string> =>
  new Promise((done) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
  });

const stamp = (): string => new Date().toISOString().slice(11, 19);

// `npm start` gives the demo app its organisation once the dashboard is up, a little after the
// Worker answers; endpoints belong to organisations, so the first one waits for it.
async function firstEndpoint(url: string): Promise<{ endpoint: { id: string }; secret: string }> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      return await admin<{ endpoint: { id: string }; secret: string }>("POST", "/webhooks", { url, description: "demo:alerts receiver" });
    } catch (err) {
      if (!(err instanceof Error && err.message.includes("belongs to no organisation")) || Date.now() > deadline) throw err;
      console.log(`${stamp()} waiting for npm start to give the demo app its organisation…`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

async function main(): Promise<void> {
  const secrets = new Map<string, string>();
  const types: string[] = [];
  const server = createServer((req, res) => {
    void read(req).then((body) => {
      const path = req.url ?? "/";
      if (path === "/failing") {
        console.log(`${stamp()} receiver /failing: answered 500 to ${String(req.headers["webhook-id"])}`);
        res.writeHead(500).end("failing on purpose");
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      try {
        const alert = new Webhook(secrets.get(path) ?? "").verify(body, headers) as { type: string; value: number | null; rule: { name: string; condition: string } };
        types.push(alert.type);
        console.log(`${stamp()} receiver ${path}: signature verified, ${alert.type} "${alert.rule.name}" value ${alert.value} (${alert.rule.condition})`);
        res.writeHead(204).end();
      } catch (err) {
        console.log(`${stamp()} receiver ${path}: REFUSED, ${err instanceof Error ? err.message : String(err)}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;

  const ok = await firstEndpoint(`http://127.0.0.1:${port}/hook`);
  secrets.set("/hook", ok.secret);
  const failing = await admin<{ endpoint: { id: string } }>("POST", "/webhooks", { url: `http://127.0.0.1:${port}/failing`, description: "demo:alerts, answers 500" });
  const { rule } = await admin<{ rule: { id: string } }>("POST", "/alerts", {
    name: "Checkout failures (demo)",
    metric: { kind: "events", name: "Checkout Failed" },
    window: "1m",
    condition: { type: "threshold", direction: "above", value: 5 },
    cooldownMinutes: 0,
    endpointIds: [ok.endpoint.id],
  });
  console.log(`${stamp()} endpoint ${ok.endpoint.id} and rule ${rule.id} created`);

  const batch = Array.from({ length: 6 }, (_, i) => ({ type: "track", event: "Checkout Failed", anonymousId: `demo-${i}`, messageId: `alerts-demo-${Date.now()}-${i}` }));
  const sent = await fetch(`${edge}/v1/batch`, { method: "POST", headers: { "content-type": "application/json", "x-write-key": writeKey }, body: JSON.stringify({ batch }) });
  const sixthAt = Date.now();
  console.log(`${stamp()} six Checkout Failed events sent: ${sent.status} ${await sent.text()}`);
  const test = await admin<{ deliveryIds: string[] }>("POST", `/webhooks/${failing.endpoint.id}/test`);
  console.log(`${stamp()} a test delivery to the endpoint that answers 500: ${test.deliveryIds.join(", ")}`);

  // The local cron evaluates at each minute's start; the rule sees a minute once it has settled.
  const deadline = Date.now() + 6 * 60_000;
  while (Date.now() < deadline && !types.includes("alert.resolved")) await new Promise((r) => setTimeout(r, 1000));
  const firedAfter = types.includes("alert.firing") ? "fired" : "did not fire";
  console.log(`${stamp()} rule ${firedAfter}; ${types.includes("alert.resolved") ? "resolved" : "not resolved"}; ${Math.round((Date.now() - sixthAt) / 1000)} s after the sixth event`);

  const history = await admin<{ history: Array<{ at: number; from: string; to: string; value: number | null }> }>("GET", `/alerts/${rule.id}/history`);
  for (const h of history.history.reverse()) console.log(`history: ${new Date(h.at).toISOString()} ${h.from} → ${h.to} (value ${h.value})`);
  const log = await admin<{ delivery: { status: string; attempts: number; nextAttemptAt: number | null }; attempts: Array<{ at: number; statusCode: number | null; latencyMs: number; responseExcerpt: string }> }>(
    "GET",
    `/webhooks/${failing.endpoint.id}/deliveries/${test.deliveryIds[0] ?? ""}`,
  );
  console.log(`failing endpoint: delivery ${log.delivery.status}, ${log.delivery.attempts} attempts, next at ${log.delivery.nextAttemptAt ? new Date(log.delivery.nextAttemptAt).toISOString() : "none"}`);
  for (const a of log.attempts) console.log(`  attempt ${new Date(a.at).toISOString()}: ${a.statusCode} in ${a.latencyMs} ms, "${a.responseExcerpt}"`);

  await admin("DELETE", `/alerts/${rule.id}`);
  await admin("DELETE", `/webhooks/${ok.endpoint.id}`);
  await admin("DELETE", `/webhooks/${failing.endpoint.id}`);
  server.close();
  if (!types.includes("alert.firing") || !types.includes("alert.resolved")) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
