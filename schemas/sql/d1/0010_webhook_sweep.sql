-- The minute's sweep looks for pending deliveries whose queue message was lost.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(status, next_attempt_at);
