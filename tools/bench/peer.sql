-- The peer of tools/bench/run.sh: the corpus loaded into PostgreSQL and its identities stitched the
-- way warehouse-native CDPs do it, by iterative label propagation in SQL (each identifier takes the
-- smallest label among its neighbours until nothing changes). Run by run.sh as
--   psql -v corpus=FILE -v graph_out=FILE -f peer.sql
-- It prints one line "RESULT key=value ..." with the times, the rounds and the sizes.
\set ON_ERROR_STOP on
\pset tuples_only on
\pset format unaligned
SELECT pg_backend_pid() AS backend_pid \gset

-- 1. Load: the batches as they come (COPY of the corpus file), then one row per event, deduplicated
-- on messageId as Tessera deduplicates, in one durable transaction (synchronous_commit is on).
SELECT extract(epoch FROM clock_timestamp()) AS t_load \gset
BEGIN;
CREATE TABLE raw_batches (channel text NOT NULL, body text NOT NULL);
-- CSV with a quote character that never occurs: each line is taken as is, without escapes.
COPY raw_batches FROM :'corpus' WITH (FORMAT csv, DELIMITER E'\t', QUOTE E'\x01');
CREATE TABLE events (
  message_id text PRIMARY KEY,
  channel text NOT NULL,
  type text NOT NULL,
  body jsonb NOT NULL
);
INSERT INTO events
SELECT e->>'messageId', b.channel, e->>'type', e
FROM raw_batches b, jsonb_array_elements(b.body::jsonb -> 'batch') AS e
ON CONFLICT (message_id) DO NOTHING;
DROP TABLE raw_batches;
COMMIT;
SELECT count(*) AS events FROM events \gset

-- 2. Stitch.
SELECT extract(epoch FROM clock_timestamp()) AS t_stitch \gset
-- The identifiers of each event, normalized as Tessera normalizes these fields: ids trimmed, emails
-- lower-cased, device ids lower-cased, phones reduced to + and digits (the corpus writes E.164), and
-- traits only from identify calls.
CREATE TABLE event_identifiers AS
SELECT e.message_id, x.type, x.value
FROM events e
CROSS JOIN LATERAL (VALUES
  ('user_id', btrim(e.body->>'userId')),
  ('anonymous_id', btrim(e.body->>'anonymousId')),
  ('previous_id', btrim(e.body->>'previousId')),
  ('email', CASE WHEN e.type = 'identify' THEN lower(btrim(e.body->'traits'->>'email')) END),
  ('phone', CASE WHEN e.type = 'identify' THEN regexp_replace(e.body->'traits'->>'phone', '[^0-9+]', '', 'g') END),
  ('email', lower(btrim(e.body->'context'->'traits'->>'email'))),
  ('device_id', lower(btrim(e.body->'context'->'device'->>'id')))
) AS x(type, value)
WHERE x.value IS NOT NULL AND x.value <> '';
CREATE INDEX ON event_identifiers (type, value);
-- alias previousId: a user id when one is known by that value, else an anonymous id (Tessera asks
-- its graph at the time of the alias; the corpus never aliases a user id, so both agree).
UPDATE event_identifiers p
SET type = CASE WHEN EXISTS (SELECT 1 FROM event_identifiers u WHERE u.type = 'user_id' AND u.value = p.value)
           THEN 'user_id' ELSE 'anonymous_id' END
WHERE type = 'previous_id';

CREATE TABLE nodes AS
SELECT row_number() OVER () AS id, type, value FROM (SELECT DISTINCT type, value FROM event_identifiers) d;
CREATE UNIQUE INDEX ON nodes (type, value);
-- Each identifier of an event is linked to the event's smallest node (a star per event), both ways.
CREATE TABLE edges AS
WITH per_event AS (
  SELECT ei.message_id, n.id FROM event_identifiers ei JOIN nodes n USING (type, value)
), hubs AS (
  SELECT message_id, min(id) AS hub FROM per_event GROUP BY message_id
)
SELECT DISTINCT p.id AS a, h.hub AS b FROM per_event p JOIN hubs h USING (message_id) WHERE p.id <> h.hub;
INSERT INTO edges SELECT b, a FROM edges;
CREATE INDEX ON edges (a);
CREATE TABLE labels AS SELECT id, id AS label FROM nodes;
ALTER TABLE labels ADD PRIMARY KEY (id);
ANALYZE edges;
ANALYZE labels;

CREATE TEMP TABLE rounds (n int);
DO $$
DECLARE
  changed bigint;
  n int := 0;
BEGIN
  LOOP
    UPDATE labels l SET label = m.label
    FROM (SELECT e.a AS id, min(l2.label) AS label FROM edges e JOIN labels l2 ON l2.id = e.b GROUP BY e.a) m
    WHERE l.id = m.id AND m.label < l.label;
    GET DIAGNOSTICS changed = ROW_COUNT;
    n := n + 1;
    EXIT WHEN changed = 0;
  END LOOP;
  INSERT INTO rounds VALUES (n);
END $$;
SELECT n AS rounds FROM rounds \gset
SELECT extract(epoch FROM clock_timestamp()) AS t_done \gset

-- 3. The graph in the form `tessera bench graph` writes: "type:value<TAB>component", the component
-- named by its smallest "type:value" in byte order.
CREATE TEMP TABLE named AS
SELECT n.type || ':' || n.value COLLATE "C" AS identifier, l.label FROM nodes n JOIN labels l USING (id);
CREATE TEMP TABLE components AS SELECT label, min(identifier) AS name FROM named GROUP BY label;
COPY (SELECT identifier, c.name FROM named JOIN components c USING (label) ORDER BY identifier)
  TO :'graph_out' WITH (FORMAT text);
SELECT count(*) AS identifiers FROM nodes \gset
SELECT count(*) AS components FROM components \gset
SELECT pg_database_size(current_database()) AS database_bytes \gset
SELECT pg_total_relation_size('events') AS events_bytes \gset
SELECT format('RESULT events=%s load_seconds=%s stitch_seconds=%s total_seconds=%s rounds=%s identifiers=%s components=%s database_bytes=%s events_table_bytes=%s backend_pid=%s',
              :events, round((:t_stitch - :t_load)::numeric, 3), round((:t_done - :t_stitch)::numeric, 3),
              round((:t_done - :t_load)::numeric, 3), :rounds, :identifiers, :components, :database_bytes,
              :events_bytes, :backend_pid);
-- Peak memory of this backend, which did all the work (shared buffers it touched included).
\setenv PEER_BACKEND_PID :backend_pid
\! awk '/^VmHWM/ {print "RESULT peak_rss_kib=" $2}' /proc/$PEER_BACKEND_PID/status
