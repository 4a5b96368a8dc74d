"""ASGI entry points for uvicorn/gunicorn.

``uvicorn rigenera.main:app`` builds the app when uvicorn asks for it (one process,
settings from the environment). ``create_app_from_env`` is the factory each worker of
``rigenera serve --workers N`` calls (``uvicorn.run(..., factory=True, workers=N)``):
the parent has resolved the database, migrated it and written pygeoapi's documents
(rigenera/workers.py), and hands them over through the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rigenera.factory import create_app
from rigenera.observability import configure_logging
from rigenera.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app_from_env() -> FastAPI:
    """One worker's app, from the environment its parent prepared. uvicorn's workers are
    spawned processes: logging (text or JSON, redacted, request ids) is set up here."""
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)


def __getattr__(name: str) -> FastAPI:
    """`app` is built on first access, not at import: a worker importing this module for
    its factory must not build a second app."""
    if name == "app":
        settings = Settings()
        configure_logging(settings)  # after uvicorn's own set-up
        application = create_app(settings)
        globals()["app"] = application
        return application
    raise AttributeError(name)
