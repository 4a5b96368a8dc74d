-- One table's row count and content checksum: the md5 of the rows' md5s, in primary-key
-- order. A row's text (t::text) carries every column, geometries as hex EWKB and floats
-- in their shortest exact form, so equal checksums mean equal contents. {table} and
-- {order_by} come from tables.sql (identifiers quoted there by format('%I')).
SELECT count(*) AS row_count,
       md5(coalesce(string_agg(md5(t::text), '' ORDER BY {order_by}), '')) AS checksum
  FROM {table} AS t
