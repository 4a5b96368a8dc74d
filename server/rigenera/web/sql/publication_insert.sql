-- The first publication row of a project (read as a draft at version 0); nothing back when
-- another writer made the row meanwhile (409).
INSERT INTO rigenera.project_publication
       (project_id, state, public_text, cover_document_id, proposed_by, proposed_at,
        published_by, published_at)
VALUES ($1, $2, $3, $4,
        CASE WHEN $2 = 'proposed' THEN $5 END, CASE WHEN $2 = 'proposed' THEN now() END,
        CASE WHEN $2 = 'published' THEN $5 END, CASE WHEN $2 = 'published' THEN now() END)
ON CONFLICT (project_id) DO NOTHING
RETURNING version;
