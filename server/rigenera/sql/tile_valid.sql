-- Is a cached tile still what the tile statement would build now? (ogc/tilecache.py)
-- $1 layer, $2..$4 z/x/y, $5 the snapshot the entry was built (or last checked) in,
-- $6 how far to expand the tile's envelope (its MVT buffer, with margin), $7 the entry's
-- `seen` (xid8[] as text): transactions at or after $5's xmin the entry saw (tile.sql).
-- Valid iff the entry's snapshot is not older than the pruning horizon (migration 0032)
-- and no change of the layer visible now, made by a transaction the entry did not see
-- (not visible in its snapshot and not in its `seen`), touches the tile. `xid >= xmin` is
-- implied by "not visible" (every xid below a snapshot's xmin had finished) and lets the
-- (layer, xid) index find the few recent rows.
-- `now` is the snapshot of this statement and `now_seen` its `seen`, computed as the tile
-- statement does (on a hot standby only; width / 16 = 2 * $6): a valid entry is
-- re-stamped with them (nothing they show differs for this tile), so the xid range checked
-- next time stays short; `aging` says the entry would fall behind the horizon at the next
-- pruning (rewrite it on disk).
SELECT pg_snapshot_xmin($5::text::pg_snapshot) >= s.horizon
       AND NOT EXISTS (
         SELECT 1 FROM rigenera.tile_changes c
          WHERE c.layer = $1
            AND c.xid >= pg_snapshot_xmin($5::text::pg_snapshot)
            AND c.bbox && ST_Expand(ST_TileEnvelope($2, $3, $4), $6)
            AND NOT pg_visible_in_snapshot(c.xid, $5::text::pg_snapshot)
            AND NOT coalesce(c.xid = ANY ($7::text::xid8[]), false)) AS valid,
       pg_snapshot_xmin($5::text::pg_snapshot) < s.next_horizon AS aging,
       rigenera.tile_snapshot()::text AS now,
       coalesce(CASE WHEN pg_is_in_recovery() THEN (
         SELECT CASE WHEN count(*) <= $8 THEN array_agg(d.xid ORDER BY d.xid)::text END
           FROM (SELECT DISTINCT c.xid FROM rigenera.tile_changes c
                  WHERE c.layer = $1
                    AND c.xid >= pg_snapshot_xmin(pg_current_snapshot())
                    AND c.bbox && ST_Expand(ST_TileEnvelope($2, $3, $4), 2 * $6)
                  LIMIT $8 + 1) AS d) END, '{}') AS now_seen
FROM rigenera.tile_cache_state s
