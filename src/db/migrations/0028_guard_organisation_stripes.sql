-- 0028: the organisation's day in stripes (issue 15). Every gated read of an organisation added its
-- part to one row per organisation and day, under that row's lock until the transaction's durable
-- commit: the accounts of one agency waited for each other's commits (measured: leaving that write
-- out halved the guard's PostgreSQL time, docs/BENCHMARKS.md, issue 15). A request now adds
-- to a stripe of the day that no one else holds (rempart_guard_org_add below), and readers add the
-- stripes up: the figures are the same sums as before, exactly.
ALTER TABLE guard_organisation_days ADD COLUMN stripe smallint NOT NULL DEFAULT 0;
ALTER TABLE guard_organisation_days DROP CONSTRAINT guard_organisation_days_pkey;
ALTER TABLE guard_organisation_days ADD PRIMARY KEY (organisation_id, day, stripe);

-- The sum of two hour-by-hour arrays, entry by entry, and its aggregate.
CREATE FUNCTION rempart_hours_add(a integer[], b integer[]) RETURNS integer[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = public, pg_temp AS $$
  SELECT CASE WHEN a IS NULL THEN b
              ELSE ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0) FROM unnest(a, b) WITH ORDINALITY AS t (x, y, i) ORDER BY i)
         END
$$;
CREATE AGGREGATE rempart_hours_sum(integer[]) (SFUNC = rempart_hours_add, STYPE = integer[]);

-- The organisation's days as they were before the stripes: one row per organisation and day. Its
-- readers' row-level security applies (security_invoker): the system's reads only.
CREATE VIEW guard_organisation_day_totals WITH (security_invoker = true) AS
  SELECT organisation_id, day, sum(persons)::integer AS persons, rempart_hours_sum(by_hour) AS by_hour,
         sum(empty)::integer AS empty, sum(refused)::integer AS refused, sum(accounts)::integer AS accounts,
         bool_or(alerted) AS alerted
  FROM guard_organisation_days
  GROUP BY organisation_id, day;
GRANT SELECT ON guard_organisation_day_totals TO rempart_app;

-- A request adds its part to a stripe of the day that no other transaction holds (SKIP LOCKED), or,
-- if every stripe is held, to a new one: it never waits for another request's commit, and the day
-- has about as many stripes as the organisation has requests committing at once.
DROP FUNCTION rempart_guard_org_add(uuid, date, integer, integer, integer, integer, integer);
CREATE FUNCTION rempart_guard_org_add(organisation uuid, on_day date, at_hour integer, n_persons integer,
                                      n_empty integer, n_refused integer, n_accounts integer)
  RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  picked smallint;
BEGIN
  SELECT g.stripe INTO picked FROM guard_organisation_days g
  WHERE g.organisation_id = organisation AND g.day = on_day
  LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF FOUND THEN
    UPDATE guard_organisation_days AS g
      SET persons = g.persons + n_persons, by_hour[at_hour + 1] = g.by_hour[at_hour + 1] + n_persons,
          empty = g.empty + n_empty, refused = g.refused + n_refused, accounts = g.accounts + n_accounts
      WHERE g.organisation_id = organisation AND g.day = on_day AND g.stripe = picked;
    RETURN n_persons;
  END IF;
  LOOP
    -- A stripe number no one holds yet (drawn again in the rare case it is taken).
    INSERT INTO guard_organisation_days (organisation_id, day, stripe, persons, by_hour, empty, refused, accounts)
    VALUES (organisation, on_day, floor(random() * 32767)::smallint, n_persons,
            (SELECT array_agg(CASE WHEN h = at_hour THEN n_persons ELSE 0 END ORDER BY h) FROM generate_series(0, 23) h),
            n_empty, n_refused, n_accounts)
    ON CONFLICT DO NOTHING;
    EXIT WHEN FOUND;
  END LOOP;
  RETURN n_persons;
END
$$;
REVOKE ALL ON FUNCTION rempart_guard_org_add(uuid, date, integer, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_org_add(uuid, date, integer, integer, integer, integer, integer) TO rempart_app;

CREATE OR REPLACE FUNCTION rempart_guard_kind_usual(organisation uuid, before_day date, span integer)
  RETURNS TABLE (per_account real, samples integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY g.persons::real / g.accounts))::real, count(*)::integer
  FROM guard_organisation_day_totals g JOIN organisations o ON o.id = g.organisation_id
  WHERE o.kind = (SELECT kind FROM organisations WHERE id = organisation) AND g.organisation_id <> organisation
    AND g.day < before_day AND g.day >= before_day - span AND g.accounts > 0 AND NOT g.alerted
$$;

CREATE OR REPLACE FUNCTION rempart_guard_org_history(organisation uuid, before_day date, span integer)
  RETURNS TABLE (day text, persons integer, by_hour integer[], empty integer, refused integer, alerted boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT to_char(g.day, 'YYYY-MM-DD'), g.persons, g.by_hour, g.empty, g.refused, g.alerted
  FROM guard_organisation_day_totals g
  WHERE g.organisation_id = organisation AND g.day < before_day AND g.day >= before_day - span
  ORDER BY g.day
$$;

-- The gate sends its audit event, the guard's write and COMMIT in one write to the server (issue
-- 15): the guard's write must then fail in SQL, aborting the transaction, if the account's state
-- moved since the session read it or if a canary is among the persons (the gate redoes the request
-- on its locked path, src/guard/guard.ts `guardCommit`). SQLSTATE RG001 is this and nothing else.
CREATE FUNCTION rempart_guard_kept(written integer, canaries integer) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp AS $$
BEGIN
  IF written = 1 AND coalesce(canaries, 0) = 0 THEN
    RETURN true;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'RG001', MESSAGE = 'the guard state moved, or a canary is among the persons';
END
$$;
REVOKE ALL ON FUNCTION rempart_guard_kept(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_kept(integer, integer) TO rempart_app;
