# syntax=docker/dockerfile:1
# Rigenera service image (production layout: see docker-compose.yml).
# Python 3.12 on Debian 12. No system GDAL/GEOS/PROJ/libpq needed: the wheels of
# pyogrio, shapely, pyproj and psycopg2-binary bundle their own libraries.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# 1. Dependencies only, so this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 2. The project, installed *editable*: rigenera.settings.PROJECT_ROOT is two
#    levels above its source file, and the demo loader reads
#    PROJECT_ROOT/data/demo/rigenera_demo.json. An editable install keeps the
#    source at /app/server/rigenera, so PROJECT_ROOT is /app (a regular install
#    would make it /usr/local/lib/python3.12 and the demo data would be missing).
COPY README.md ./
COPY server ./server
COPY data ./data
RUN pip install --no-deps -e . \
    && useradd --system --create-home --home-dir /var/lib/rigenera \
        --shell /usr/sbin/nologin rigenera

# Generated pygeoapi config and the PID file go to the state dir, writable by
# the service user; the database is DATABASE_URL (no embedded cluster here).
ENV RIGENERA_HOST=0.0.0.0 \
    RIGENERA_PORT=8000 \
    RIGENERA_STATE_DIR=/var/lib/rigenera

USER rigenera
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["sh", "-c", "rigenera migrate && rigenera load-demo --if-empty && exec rigenera serve"]
