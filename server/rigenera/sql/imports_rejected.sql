-- The rejected rows of an import as CSV ($2: only the caller's own, for technicians).
SELECT rejected_csv FROM rigenera.imports WHERE id = $1 AND ($2::text IS NULL OR actor = $2);
