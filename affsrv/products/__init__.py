"""Products: one catalogue for the Data API (by id), landing links and the REST API (by SKU)."""
