-- The comuni of the metropolitan area, by name: the review pages' comune filter and the
-- names shown in their queues (a technician's filter keeps only their own, in Python).
SELECT istat_code, name
  FROM rigenera.comuni
 ORDER BY name
