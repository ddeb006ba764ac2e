-- One row per distinct metric sample, so imports and replays of system_metrics are
-- idempotent (ON CONFLICT DO NOTHING). A missing value or tag set counts as equal
-- to another missing one (coalesce), which also works before PostgreSQL 15.
DELETE FROM system_metrics a
 USING system_metrics b
 WHERE a.ctid > b.ctid
   AND a.metric_name = b.metric_name
   AND a."timestamp" = b."timestamp"
   AND coalesce(a.tags, 'null'::jsonb) = coalesce(b.tags, 'null'::jsonb)
   AND coalesce(a.metric_value, 'NaN'::float8) = coalesce(b.metric_value, 'NaN'::float8);

CREATE UNIQUE INDEX system_metrics_identity_idx ON system_metrics
    (metric_name, "timestamp", coalesce(tags, 'null'::jsonb), coalesce(metric_value, 'NaN'::float8));

-- The identity index serves lookups by name and time.
DROP INDEX system_metrics_name_time_idx;
