"""The durable notification outbox and its delivery (claim, send, record): email, SMS, webhooks."""
