-- The distinct sources of the rows an export will hold (same view, same filter, same
-- snapshot: the export runs in one REPEATABLE READ transaction), most features first.
SELECT t.source, count(*) AS features
  FROM ${relation} AS t
 WHERE ${where}
 GROUP BY t.source
 ORDER BY count(*) DESC, t.source
