"""Merchant users: the people who sign in to the dashboard (/admin)."""
