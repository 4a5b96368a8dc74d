"""The website's routes: public pages and the reserved area (one module per room)."""
