-- Who acts in this transaction: touch() stamps created_by/updated_by with it.
SELECT set_config('rigenera.actor', $1, true);
