-- Imports whose run ended without the engine recording it (a bug, a stopped server):
-- the record says failed, with the message, instead of running for ever.
UPDATE rigenera.imports
   SET status = 'failed', finished_at = now(),
       report = coalesce(report, '{}'::jsonb)
                || jsonb_build_object('status', 'failed', 'message', %(message)s::text)
 WHERE id = ANY (%(ids)s) AND status = 'running';
