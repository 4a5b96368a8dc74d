-- A registration found by its cancellation token's SHA-256 ($1): only what its page shows.
SELECT r.id, r.event_id, r.status, r.created_at, r.cancelled_at
  FROM rigenera.event_registrations r
 WHERE r.cancel_token_hash = $1
