-- Which of the requested ISTAT codes are comuni of the metropolitan area (%(codes)s).
SELECT istat_code FROM rigenera.comuni WHERE istat_code = ANY(%(codes)s::text[])
