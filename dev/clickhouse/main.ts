// node --import tsx dev/clickhouse/main.ts [--data DIR] [--port N] [--host H] [--sessions N]
// Defaults from CLICKHOUSE_DATA_DIR (.data/clickhouse) and CLICKHOUSE_PORT (8123). Queries need
// user `default` and the password kept in the data directory (made on first start, printed).
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { localClickHouseDataDir } from "./target";
import { startClickHouseServer } from "./server";

const root = resolve(import.meta.dirname, "../..");

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      sessions: { type: "string" },
    },
  });
  const dataDir = values.data === undefined ? localClickHouseDataDir(root) : resolve(root, values.data);
  const port = Number(values.port ?? process.env.CLICKHOUSE_PORT ?? 8123);
  const sessions = values.sessions === undefined ? undefined : Number(values.sessions);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a port: ${values.port ?? process.env.CLICKHOUSE_PORT}`);
  if (sessions !== undefined && (!Number.isInteger(sessions) || sessions < 1)) throw new Error(`--sessions must be a positive integer`);

  const server = await startClickHouseServer({
    dataDir,
    port,
    host: values.host ?? "127.0.0.1",
    ...(sessions === undefined ? {} : { sessions }),
  });
  console.log(`clickhouse: ${server.url}`);
  console.log(`clickhouse login: ${server.user} / ${server.password}`);
  console.log(`clickhouse data: ${dataDir}`);

  let stopping = false;
  const stop = (): void => {
    // A second signal means the user does not want to wait for running queries.
    if (stopping) process.exit(1);
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
