"""Clerk keys for the ClickBank-compatible REST API (``/rest/1.3``): stored hashed, with roles."""
