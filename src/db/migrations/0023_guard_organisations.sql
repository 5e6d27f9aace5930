-- 0023: the guard against patient and colluding attackers (issue 13). Stolen accounts of one
-- organisation, each near its own usual day, pulled the organisation's whole caseload with no
-- response: nothing looked at an organisation as a whole, and the peers' baseline was fed by the
-- colluding accounts themselves.

-- The account's reviewed usual day (src/guard/state.ts `ref`): peers' baselines read it, so that an
-- account whose usual day is rising (past its reviewed usual day by more than the growth allowed)
-- is left out of its colleagues' comparison.
ALTER TABLE guard_accounts ADD COLUMN ref real;

-- The peers' usual day: the median (a few colluding peers do not move it) of their usual days, each
-- held to its reviewed one, leaving out the peers whose own usual day is rising.
DROP FUNCTION rempart_guard_peer_baseline(uuid, text, uuid);
CREATE FUNCTION rempart_guard_peer_baseline(organisation uuid, peer_role text, excluded uuid, growth real)
  RETURNS TABLE (baseline real, peers integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY least(baseline, coalesce(ref, baseline))))::real,
         count(*)::integer
  FROM guard_accounts
  WHERE organisation_id = organisation AND role = peer_role AND account_id <> excluded AND baseline IS NOT NULL
    AND (ref IS NULL OR baseline <= ref * (1 + growth))
$$;
REVOKE ALL ON FUNCTION rempart_guard_peer_baseline(uuid, text, uuid, real) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_peer_baseline(uuid, text, uuid, real) TO rempart_app;

-- One row per organisation and local day: what all its accounts did (src/guard/organisation.ts).
-- `persons` adds each account's distinct persons of the day (a person two colleagues read counts
-- twice, as it does in the usual it is compared with); `by_hour` the same by local hour (24
-- entries), so that a morning is compared with the usual mornings. The gate adds to it in the
-- read's transaction; an account reads the past days at the start of its day.
CREATE TABLE guard_organisation_days (
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  day date NOT NULL,
  persons integer NOT NULL DEFAULT 0,
  by_hour integer[] NOT NULL,
  empty integer NOT NULL DEFAULT 0,
  refused integer NOT NULL DEFAULT 0,
  -- accounts that reached someone that day (for the comparison with organisations of its kind)
  accounts integer NOT NULL DEFAULT 0,
  -- an organisation signal drew a response that day: the day is left out of the organisation's
  -- usual (a rise does not become the usual by lasting)
  alerted boolean NOT NULL DEFAULT false,
  PRIMARY KEY (organisation_id, day)
);
-- Rewritten by its accounts' requests all day: room on the page for the new version (HOT updates).
ALTER TABLE guard_organisation_days SET (fillfactor = 50);
GRANT SELECT, INSERT, UPDATE ON guard_organisation_days TO rempart_app;
ALTER TABLE guard_organisation_days ENABLE ROW LEVEL SECURITY;
CREATE POLICY guard_organisation_days_system ON guard_organisation_days TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');

-- A staff transaction (the gate's) adds its request to its organisation's day, reads the past days
-- and marks an alert, through these functions only: it cannot read another organisation's figures.
CREATE FUNCTION rempart_guard_org_add(organisation uuid, on_day date, at_hour integer, n_persons integer,
                                      n_empty integer, n_refused integer, n_accounts integer)
  RETURNS integer
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  INSERT INTO guard_organisation_days AS g (organisation_id, day, persons, by_hour, empty, refused, accounts)
  VALUES (organisation, on_day, n_persons,
          (SELECT array_agg(CASE WHEN h = at_hour THEN n_persons ELSE 0 END ORDER BY h) FROM generate_series(0, 23) h),
          n_empty, n_refused, n_accounts)
  ON CONFLICT (organisation_id, day) DO UPDATE
    SET persons = g.persons + n_persons, by_hour[at_hour + 1] = g.by_hour[at_hour + 1] + n_persons,
        empty = g.empty + n_empty, refused = g.refused + n_refused, accounts = g.accounts + n_accounts
  RETURNING g.persons
$$;
REVOKE ALL ON FUNCTION rempart_guard_org_add(uuid, date, integer, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_org_add(uuid, date, integer, integer, integer, integer, integer) TO rempart_app;

-- Organisations of its kind: the median of their persons per active account and day, over the
-- window (their days with an alert left out), and how many organisation-days it is drawn from. A
-- new organisation (a subcontractor created last week, T8) has no usual of its own to compare with.
CREATE FUNCTION rempart_guard_kind_usual(organisation uuid, before_day date, span integer)
  RETURNS TABLE (per_account real, samples integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY g.persons::real / g.accounts))::real, count(*)::integer
  FROM guard_organisation_days g JOIN organisations o ON o.id = g.organisation_id
  WHERE o.kind = (SELECT kind FROM organisations WHERE id = organisation) AND g.organisation_id <> organisation
    AND g.day < before_day AND g.day >= before_day - span AND g.accounts > 0 AND NOT g.alerted
$$;
REVOKE ALL ON FUNCTION rempart_guard_kind_usual(uuid, date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_kind_usual(uuid, date, integer) TO rempart_app;

CREATE FUNCTION rempart_guard_org_history(organisation uuid, before_day date, span integer)
  RETURNS TABLE (day text, persons integer, by_hour integer[], empty integer, refused integer, alerted boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT to_char(g.day, 'YYYY-MM-DD'), g.persons, g.by_hour, g.empty, g.refused, g.alerted
  FROM guard_organisation_days g
  WHERE g.organisation_id = organisation AND g.day < before_day AND g.day >= before_day - span
  ORDER BY g.day
$$;
REVOKE ALL ON FUNCTION rempart_guard_org_history(uuid, date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_org_history(uuid, date, integer) TO rempart_app;

CREATE FUNCTION rempart_guard_org_alerted(organisation uuid, on_day date)
  RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE guard_organisation_days SET alerted = true
  WHERE organisation_id = organisation AND day = on_day AND NOT alerted
$$;
REVOKE ALL ON FUNCTION rempart_guard_org_alerted(uuid, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_org_alerted(uuid, date) TO rempart_app;
