-- What a restore is verified with (make production-db-restore, make production-db-drill): for
-- the database it runs in, one JSON line with the alembic revision and the exact row count of
-- every table in public. The database-check job runs it in each database, against the instance
-- named by PGHOST; its output lines reach Cloud Logging as jsonPayload.
SELECT json_build_object(
  'check', 'database',
  'database', current_database(),
  'alembic', CASE WHEN to_regclass('public.alembic_version') IS NULL THEN NULL
             ELSE (xpath('/row/v/text()', query_to_xml('SELECT version_num AS v FROM public.alembic_version LIMIT 1', false, true, '')))[1]::text END,
  'counts', (
    SELECT coalesce(json_object_agg(c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint ORDER BY c.relname), '{}'::json)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  )
);
