-- The settings a row's text depends on, fixed so the checksums of a backup and of its
-- restore are computed alike whatever the server's or the role's defaults.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;
SET bytea_output = 'hex';
