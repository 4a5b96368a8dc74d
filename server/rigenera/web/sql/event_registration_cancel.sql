-- The registrant cancels: the place is free again (only counted while 'registered').
UPDATE rigenera.event_registrations
   SET status = 'cancelled', cancelled_at = now()
 WHERE cancel_token_hash = $1 AND status = 'registered'
RETURNING id, event_id
