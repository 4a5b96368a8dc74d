-- What the manifest records about the server: PostgreSQL's version, every extension
-- (PostGIS above all). The schema version is read apart: the table may not exist.
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       current_database() AS database,
       (SELECT coalesce(json_agg(json_build_object('name', e.extname, 'version', e.extversion,
                                                   'schema', n.nspname) ORDER BY e.extname),
                        '[]')
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname <> 'plpgsql') AS extensions
