-- Write a publication row at the version the form was read at ($2); no row back: someone
-- else changed it meanwhile (409). Stamps are kept unless the new state sets them.
UPDATE rigenera.project_publication
   SET state = $3, public_text = $4, cover_document_id = $5,
       proposed_by = CASE WHEN $3 = 'proposed' AND state <> 'proposed' THEN $6 ELSE proposed_by END,
       proposed_at = CASE WHEN $3 = 'proposed' AND state <> 'proposed' THEN now()
                          ELSE proposed_at END,
       published_by = CASE WHEN $3 = 'published' AND state <> 'published' THEN $6
                           ELSE published_by END,
       published_at = CASE WHEN $3 = 'published' AND state <> 'published' THEN now()
                           ELSE published_at END
 WHERE project_id = $1 AND version = $2
RETURNING version;
