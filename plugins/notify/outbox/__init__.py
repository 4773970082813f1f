"""The development outbox: a notification channel that keeps messages instead of sending them."""
