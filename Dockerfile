# syntax=docker/dockerfile:1
# Rigenera's API image (production layout: docker-compose.yml, README "Production").
#
# Built by the project's own set-up script, the one `make run` uses (scripts/bootstrap.sh),
# with its image profile: Debian's packages it needs (pg_dump for backups, npm only while
# building the website's MapLibre files), the virtual environment /app/.venv with the
# project installed editable (rigenera.settings.PROJECT_ROOT is then /app, where data/
# is), and the website's front-end files. No embedded PostgreSQL, no test tools, no
# secrets: DATABASE_URL and the password (PGPASSWORD_FILE) come at run time.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RIGENERA_PYTHON=/usr/local/bin/python3.12

WORKDIR /app

COPY pyproject.toml README.md ./
COPY scripts/bootstrap.sh scripts/build-web.sh ./scripts/
COPY frontend/package.json frontend/package-lock.json ./frontend/
COPY server ./server
COPY data ./data
COPY deploy/entrypoint.sh deploy/healthcheck.py ./deploy/

# One layer: set up, then drop what only the build needed (npm and its downloads).
# The caches are BuildKit cache mounts: a rebuild after a code change reuses downloads.
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=cache,target=/root/.npm \
    RIGENERA_PROFILE=image bash scripts/bootstrap.sh \
    && rm -rf frontend/node_modules \
    && apt-get purge -y --auto-remove nodejs npm \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/rigenera \
        --shell /usr/sbin/nologin rigenera \
    && install -d -o rigenera -g rigenera -m 0750 /var/lib/rigenera/documents \
        /var/lib/rigenera/tiles

# Generated pygeoapi config and the PID file go to the state dir, writable by the service
# user; documents/ and tiles/ in it are volumes shared by the API replicas
# (docker-compose.yml; a new named volume takes these directories' owner).
ENV PATH=/app/.venv/bin:$PATH \
    RIGENERA_HOST=0.0.0.0 \
    RIGENERA_PORT=8000 \
    RIGENERA_STATE_DIR=/var/lib/rigenera

USER rigenera
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["rigenera", "serve"]
