"""ASGI entry point for uvicorn/gunicorn: ``uvicorn rigenera.main:app``."""

from rigenera.factory import create_app

app = create_app()
