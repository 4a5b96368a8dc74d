#!/bin/sh
# The API image's entrypoint: NAME_FILE becomes NAME, read from that file (docker secrets
# at /run/secrets/...), so no secret is ever in the image, the compose file or `docker
# inspect`. For PGPASSWORD (libpq and asyncpg use it for DATABASE_URL and
# DATABASE_READ_URLS), DATABASE_URL, DATABASE_READ_URLS and every RIGENERA_* setting; not
# for other *_FILE names (SSL_CERT_FILE is a path, not a secret).
set -eu
for name in $(env | sed -n -E 's/^(PGPASSWORD|DATABASE_URL|DATABASE_READ_URLS|RIGENERA_[A-Z0-9_]+)_FILE=.*/\1/p'); do
    eval "file=\${${name}_FILE}"
    if [ ! -r "$file" ]; then
        echo "entrypoint: ${name}_FILE=$file is not a readable file" >&2
        exit 1
    fi
    value="$(cat "$file")"
    export "$name=$value"
    unset "${name}_FILE"
done
exec "$@"
