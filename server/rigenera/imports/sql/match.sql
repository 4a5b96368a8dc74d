-- Which stored feature each staged row is: the same (source, source_id), else (projects)
-- the same CUP, else (sites) the same geometry within the tolerance (Hausdorff distance
-- in metres, UTM 32N), else none (a new feature).
CREATE TEMP TABLE _imp_match ON COMMIT DROP AS
SELECT s._row, k.id AS key_id, {cup_id} AS cup_id, {geom_id} AS geom_id
  FROM _imp_stage s
  LEFT JOIN {table} k ON k.source = s.source AND k.source_id = s.source_id
  {cup_join}
  {geom_join};
