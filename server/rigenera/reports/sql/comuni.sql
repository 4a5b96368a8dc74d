-- The comuni: name, population, IVSM (all, or those asked).
SELECT istat_code, name, population, ivsm, ivsm_year FROM rigenera.comuni
 WHERE %(comuni)s::text[] IS NULL OR istat_code = ANY (%(comuni)s::text[])
 ORDER BY istat_code
