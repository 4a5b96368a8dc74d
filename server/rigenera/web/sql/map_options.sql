-- The public map's filter choices: the comuni (all 133) and the programmes of the
-- published projects (codes as in tiles.projects.programmes).
SELECT 'comune' AS kind, istat_code AS code, name AS label FROM rigenera.comuni
UNION ALL
SELECT DISTINCT 'programme', k, k
  FROM tiles.projects t, unnest(string_to_array(t.programmes, ',')) AS k
 WHERE t.published
ORDER BY 1, 3;
