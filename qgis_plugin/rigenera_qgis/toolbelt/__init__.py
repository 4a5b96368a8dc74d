"""Small helpers shared by the whole plugin: metadata, translations, logging."""
