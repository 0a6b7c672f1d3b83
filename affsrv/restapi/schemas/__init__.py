"""Marshmallow shapes of the REST API's query parameters (one module per resource)."""
