-- Sample "product database" for the docker-compose stack: a usage table of the kind SaaS products
-- keep, which Forewarn pulls incrementally as a SQL source (WHERE updated_at > $cursor).
-- Runs once, when the postgres container initialises its empty data volume.
--
-- DSN from the forewarn container: postgres://forewarn:${POSTGRES_PASSWORD}@postgres:5432/usage
-- (POSTGRES_PASSWORD defaults to "forewarn"; see README, "docker compose").

CREATE TABLE IF NOT EXISTS usage_events (
  id         bigserial        PRIMARY KEY,
  account    text             NOT NULL,
  metric     text             NOT NULL,
  ts         timestamptz      NOT NULL,
  value      double precision NOT NULL,
  updated_at timestamptz      NOT NULL DEFAULT now()
);

-- the incremental pull reads in (updated_at, id) order
CREATE INDEX IF NOT EXISTS usage_events_updated_at_id ON usage_events (updated_at, id);

-- corrections re-emit a row: an UPDATE moves it past the source's cursor again
CREATE OR REPLACE FUNCTION usage_events_touch() RETURNS trigger AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS usage_events_touch ON usage_events;
CREATE TRIGGER usage_events_touch BEFORE UPDATE ON usage_events
  FOR EACH ROW EXECUTE FUNCTION usage_events_touch();

-- two days of hourly usage for the seed accounts of rules/accounts.yaml: active users follow the
-- working day; stored data grows slowly; "hooli-labs" loses most of its active users on the last
-- afternoon (a broken SSO roll-out), which Forewarn's default watch scores as an anomaly
INSERT INTO usage_events (account, metric, ts, value, updated_at)
SELECT a.account,
       m.metric,
       t.ts,
       CASE m.metric
         WHEN 'app_active_users' THEN
           round((a.users * (0.3 + 0.7 * exp(-power(extract(hour FROM t.ts) - 14, 2) / 18.0))
                  * CASE WHEN a.account = 'hooli-labs' AND t.ts > date_trunc('hour', now()) - interval '6 hours' THEN 0.2 ELSE 1 END)::numeric, 0)
         ELSE round((a.storage_gb * (1 + extract(epoch FROM t.ts - (now() - interval '2 days')) / 86400 * 0.01))::numeric, 2)
       END::double precision,
       t.ts
FROM (VALUES ('acme-corp', 1800, 420.0),
             ('globex', 650, 120.0),
             ('umbrella-health', 2400, 980.0),
             ('initech', 90, 12.5),
             ('hooli-labs', 300, 64.0),
             ('stark-retail', 40, 3.2)) AS a(account, users, storage_gb)
CROSS JOIN (VALUES ('app_active_users'), ('app_storage_gb')) AS m(metric)
CROSS JOIN generate_series(date_trunc('hour', now()) - interval '2 days', date_trunc('hour', now()), interval '1 hour') AS t(ts)
ORDER BY t.ts, a.account, m.metric;
