// What the dashboard asks of the edge Worker about alerts, through the ALERTS service binding to
// AlertsService: the sends, which only the Worker can make (it holds the webhook queue and reads
// ClickHouse with the rules' own queries). Rules and endpoints themselves are read and changed
// in D1 by the shared stores (workers/alerts/rules/store.ts, workers/alerts/webhooks/store.ts).

/** The deliveries a send recorded and queued, or why nothing was sent, in words for people. */
export type SendResult = { ok: true; deliveryIds: string[] } | { ok: false; reason: string };

export interface AlertsApi {
  /** A rule's "test": an `alert.test` delivery to each of its endpoints with the value its window has now; no state changes. */
  testRule(orgId: string, appId: string, ruleId: string): Promise<SendResult>;
  /** An `alert.test` delivery with a sample body to one endpoint of the organisation. */
  testEndpoint(orgId: string, endpointId: string): Promise<SendResult>;
  /** Sends a delivery again by hand: back to pending and queued for an attempt now. */
  resendDelivery(orgId: string, deliveryId: string): Promise<SendResult>;
}
