INSERT INTO rigenera.imports (collection, file_name, sha256, file_format, layer, crs, mapping,
                              actor, dry_run, skip_invalid, status, rows_total, worker)
VALUES (%(collection)s, %(file_name)s, %(sha256)s, %(format)s, %(layer)s, %(crs)s, %(mapping)s,
        %(actor)s, %(dry_run)s, %(skip_invalid)s, 'running', %(rows_total)s, %(worker)s)
RETURNING id;
