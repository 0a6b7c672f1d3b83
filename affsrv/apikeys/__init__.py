"""API keys for the JSON API: stored hashed (SHA-256), a key sent looked up by its hash."""
