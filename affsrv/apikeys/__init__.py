"""API keys for the JSON API: stored hashed, compared in constant time."""
