"""OGC API: pygeoapi, configured from our catalogue and mounted at /ogc."""
