-- A referent's contact log, newest first.
SELECT k.id, k.contacted_on, k.contacted_by, k.channel, k.outcome, k.notes, k.follow_up_on,
       k.follow_up_done, k.version
  FROM rigenera.contacts k
 WHERE k.referent_id = $1
 ORDER BY k.contacted_on DESC, k.id DESC;
