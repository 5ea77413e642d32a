import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** D1 migrations read by vitest.config.ts, applied in test/apply-migrations.ts. */
      TEST_MIGRATIONS: D1Migration[];
      /** The local ClickHouse without the fault proxy in between. */
      CLICKHOUSE_DIRECT_URL: string;
      /** test/webhook-receiver.ts, running beside the tests. */
      WEBHOOK_RECEIVER_URL: string;
    }
  }
}
