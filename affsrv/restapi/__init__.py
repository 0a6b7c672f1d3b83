"""ClickBank-compatible REST API 1.3 (``/rest/1.3``): products, shipping2 and orders2."""
