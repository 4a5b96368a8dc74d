-- The open data page: the distinct sources (attribution lines) of each published
-- collection and how many features each gives; the licence is read from the line
-- (exports/attribution.py), as in every export.
SELECT 'comuni' AS collection, source, count(*) AS features FROM pub.comuni GROUP BY source
UNION ALL SELECT 'sites', source, count(*) FROM pub.sites GROUP BY source
UNION ALL SELECT 'projects', source, count(*) FROM pub.projects GROUP BY source
UNION ALL SELECT 'mobility_links', source, count(*) FROM pub.mobility_links GROUP BY source
UNION ALL SELECT 'transit_stops', source, count(*) FROM pub.transit_stops GROUP BY source
UNION ALL SELECT 'calls', source, count(*) FROM pub.calls GROUP BY source
UNION ALL SELECT 'needs', source, count(*) FROM pub.needs GROUP BY source
ORDER BY 1, 3 DESC, 2;
