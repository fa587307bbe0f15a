"""The durable notification outbox, its procrastinate worker and the delivery adapters."""
