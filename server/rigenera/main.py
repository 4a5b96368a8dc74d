"""ASGI entry point for uvicorn/gunicorn: ``uvicorn rigenera.main:app``."""

from rigenera.factory import create_app
from rigenera.observability import configure_logging
from rigenera.settings import Settings

settings = Settings()
configure_logging(settings)  # after uvicorn's own set-up: JSON logs, redaction, request ids
app = create_app(settings)
