import { defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import type {} from "./test/global-setup";

// Three projects: pure code in Node, the local ClickHouse server in Node, and everything
// that runs on Cloudflare (Worker, Durable Objects, queues, end to end) inside workerd.
export default defineConfig({
  test: {
    // Two files at a time (vitest's default is one less than the cores: one, here). Most files
    // wait on workerd, chDB or Chromium in other processes, so a second file uses the time; the
    // workerd and e2e projects still take their files one at a time.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          // Files share one module graph: importing it again for each file cost more than the tests.
          isolate: false,
          // A ceiling for a test held up on a busy machine, never a measure of speed.
          testTimeout: 30_000,
          include: ["schemas/**/*.test.ts", "workers/**/*.test.ts", "durable-objects/**/*.test.ts", "sdk/**/*.test.ts", "bench/**/*.test.ts"],
          exclude: ["**/*.workerd.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "clickhouse",
          environment: "node",
          include: ["dev/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          // The dashboard's loaders and actions against a real local D1 (Miniflare) and ClickHouse.
          name: "dashboard",
          environment: "node",
          // Files share one module graph (the route modules, Remix, Miniflare and chDB's client),
          // imported once instead of for each of some forty files; each file still starts its own
          // D1 and ClickHouse, and no test mocks a module.
          isolate: false,
          include: ["dashboard/**/*.test.ts"],
          exclude: ["dashboard/**/*.e2e.test.ts", "**/node_modules/**"],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            main: "./workers/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ENVIRONMENT: "development",
                CLICKHOUSE_URL: inject("clickhouseUrl"),
                CLICKHOUSE_DIRECT_URL: inject("clickhouseDirectUrl"),
                CLICKHOUSE_USER: inject("clickhouseUser"),
                CLICKHOUSE_PASSWORD: inject("clickhousePassword"),
                ADMIN_TOKEN: "test-admin-token",
                WEBHOOK_RECEIVER_URL: inject("webhookReceiverUrl"),
                // Small enough that the back-pressure tests reach it.
                BUFFER_MAX_ROWS: "3000",
                // Confirmed ids move to the filters at the next alarm, so a test sees them there.
                DEDUP_MERGE_AFTER_MS: "0",
                TEST_MIGRATIONS: await readD1Migrations("./schemas/sql/d1"),
              },
            },
          })),
        ],
        test: {
          name: "workerd",
          include: ["workers/**/*.workerd.test.ts", "durable-objects/**/*.workerd.test.ts", "test/**/*.workerd.test.ts"],
          globalSetup: ["./test/global-setup.ts"],
          setupFiles: ["./test/apply-migrations.ts"],
          // Every file shares one fault proxy in front of ClickHouse: one file's simulated
          // outage must not land in another file's test.
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          // The SDK's builds and the dashboard in Chromium against the whole local stack
          // (sdk/e2e/global-setup.ts), after the
          // other projects: it needs both cores for wrangler, ClickHouse and Chromium.
          name: "e2e",
          environment: "node",
          include: ["sdk/**/*.e2e.test.ts", "dashboard/**/*.e2e.test.ts", "test/**/*.e2e.test.ts"],
          globalSetup: ["./sdk/e2e/global-setup.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 90_000,
          hookTimeout: 180_000,
          // expect.poll gives up after 1 s by default: a form post and its reload on a loaded
          // machine can take longer. A ceiling, never a measure of speed.
          expect: { poll: { timeout: 30_000 } },
        },
      },
    ],
  },
});
