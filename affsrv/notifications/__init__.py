"""Instant notifications and e-mails out: subscriptions, the outbox, the delivery worker."""
