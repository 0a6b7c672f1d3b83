"""The merchant's dashboard (/admin): pages over the domains' services."""
