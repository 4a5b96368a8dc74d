"""Our own HTTP routes (everything that is not pygeoapi's OGC API)."""
