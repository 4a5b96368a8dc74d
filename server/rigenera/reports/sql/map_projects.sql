-- The report's projects as points for the PDF map (UTM 32N): each part of a project's
-- geometry at its point on surface (a project of several comuni is drawn in each).
WITH $selection
SELECT sel.id, sel.status, ST_X(q.p) AS x, ST_Y(q.p) AS y
  FROM sel JOIN rigenera.projects p ON p.id = sel.id
  CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Transform(d.geom, 32632)) AS p
                        FROM ST_Dump(p.geom) d) q
 WHERE p.geom IS NOT NULL
