(NOT EXISTS (SELECT 1 FROM _imp_funding_given g WHERE g._row = s._row)
 OR ARRAY(SELECT format('%%s|%%s|%%s|%%s|%%s|%%s|%%s', f.source_id, f.funding_source, f.programme_code,
                        f.status, f.amount_eur, f.amount_approx, f.call_title)
            FROM _imp_fl f WHERE f._row = s._row ORDER BY 1)
  = ARRAY(SELECT format('%%s|%%s|%%s|%%s|%%s|%%s|%%s', fl.source_id, fl.funding_source, fl.programme_code,
                        fl.status, fl.amount_eur, fl.amount_approx, fl.call_title)
            FROM rigenera.funding_lines fl WHERE fl.project_id = t.id AND fl.source = s.source
           ORDER BY 1))
