"""The API container's health check (docker-compose.yml): ready to serve, else unhealthy.

/readyz (the primary reachable) where the service has it, /healthz otherwise; stdlib only,
so it runs in the image without the virtual environment's packages.
"""

import os
import sys
import urllib.error
import urllib.request

BASE = f"http://127.0.0.1:{os.environ.get('RIGENERA_PORT', '8000')}"


def status(path: str) -> int:
    try:
        with urllib.request.urlopen(BASE + path, timeout=4) as answer:  # noqa: S310 (http://127.0.0.1 only)
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


code = status("/readyz")
if code == 404:
    code = status("/healthz")
sys.exit(0 if code == 200 else 1)
