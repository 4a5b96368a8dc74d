UPDATE rigenera.imports
   SET status = %(status)s, counts = %(counts)s, report = %(report)s, rejected_csv = %(rejected_csv)s,
       rows_done = %(rows_done)s, rows_total = %(rows_total)s, finished_at = %(finished_at)s,
       file_format = coalesce(%(format)s, file_format), layer = coalesce(%(layer)s, layer),
       crs = coalesce(%(crs)s, crs), mapping = coalesce(%(mapping)s, mapping)
 WHERE id = %(id)s;
