"""Database plumbing shared by the domain packages: column types and engine tuning."""
