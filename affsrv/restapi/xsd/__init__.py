"""The seeds' XML schemas, served by the ``/schema`` endpoints."""
