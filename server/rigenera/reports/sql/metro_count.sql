-- The report's metro-area projects (no point on the map).
WITH $selection
SELECT count(*) FROM sel WHERE scope = 'metro_area'
