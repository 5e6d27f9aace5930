-- 0024: the share of its caseload an organisation reads in a week (issue 13). The organisation's
-- day adds each account's distinct persons: a person read on Monday and again on Tuesday counts
-- twice, and a crew that reads new persons instead of the usual ones keeps that sum where it was.
-- What it changes is how much of the caseload the organisation has reached over the week: a set
-- of persons, counted from the audit log's person links (src/guard/organisation.ts `coverageValues`).

-- Once per organisation and local day, the first of its accounts to start its day counts it; the
-- others read this row. Windows end at the local midnight that starts the day (`day_start`): week
-- 0 is the 6 days before it (today's persons are added by each request), weeks 1 to 3 the three
-- full weeks before that. `caseloads[i]` is the caseload on the last day of week i (a new caseload
-- makes reading more of it normal: the signal compares shares of the caseload).
CREATE TABLE guard_organisation_coverage (
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  day date NOT NULL,
  weeks integer[] NOT NULL,
  caseloads integer[] NOT NULL,
  PRIMARY KEY (organisation_id, day)
);
GRANT SELECT, INSERT ON guard_organisation_coverage TO rempart_app;
ALTER TABLE guard_organisation_coverage ENABLE ROW LEVEL SECURITY;
CREATE POLICY guard_organisation_coverage_system ON guard_organisation_coverage TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');

-- Distinct persons the given accounts reached in each of the four windows before `day_start`.
CREATE FUNCTION rempart_guard_weeks_read(account_ids uuid[], day_start timestamptz)
  RETURNS integer[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT ARRAY[
    count(DISTINCT p.person_id) FILTER (WHERE p.occurred_at >= day_start - interval '6 days'),
    count(DISTINCT p.person_id) FILTER (WHERE p.occurred_at < day_start - interval '6 days'
                                          AND p.occurred_at >= day_start - interval '13 days'),
    count(DISTINCT p.person_id) FILTER (WHERE p.occurred_at < day_start - interval '13 days'
                                          AND p.occurred_at >= day_start - interval '20 days'),
    count(DISTINCT p.person_id) FILTER (WHERE p.occurred_at < day_start - interval '20 days')]::integer[]
  FROM audit_event_persons p
  WHERE p.account_id = ANY (account_ids)
    AND p.occurred_at >= day_start - interval '27 days' AND p.occurred_at < day_start
$$;
REVOKE ALL ON FUNCTION rempart_guard_weeks_read(uuid[], timestamptz) FROM PUBLIC;

-- The organisation's weeks (counted once per organisation and day) and the account's own: what
-- the gate reads at the start of an account's day. A staff transaction reaches its own
-- organisation's and its own figures only, through this function.
CREATE FUNCTION rempart_guard_coverage(organisation uuid, account uuid, on_day date, day_start timestamptz)
  RETURNS TABLE (weeks integer[], caseloads integer[], own integer[])
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  found_weeks integer[];
  found_caseloads integer[];
BEGIN
  SELECT c.weeks, c.caseloads INTO found_weeks, found_caseloads
  FROM guard_organisation_coverage c WHERE c.organisation_id = organisation AND c.day = on_day;
  IF found_weeks IS NULL THEN
    found_weeks := rempart_guard_weeks_read(
      ARRAY(SELECT a.id FROM accounts a WHERE a.organisation_id = organisation), day_start);
    SELECT ARRAY[
      count(DISTINCT k.person_id) FILTER (WHERE k.since <= on_day - 1 AND (k.until IS NULL OR k.until >= on_day - 1)),
      count(DISTINCT k.person_id) FILTER (WHERE k.since <= on_day - 7 AND (k.until IS NULL OR k.until >= on_day - 7)),
      count(DISTINCT k.person_id) FILTER (WHERE k.since <= on_day - 14 AND (k.until IS NULL OR k.until >= on_day - 14)),
      count(DISTINCT k.person_id) FILTER (WHERE k.since <= on_day - 21 AND (k.until IS NULL OR k.until >= on_day - 21))]::integer[]
    INTO found_caseloads
    FROM caseloads k WHERE k.organisation_id = organisation;
    -- Two accounts starting their day at once: the first row stays, both count the same.
    INSERT INTO guard_organisation_coverage (organisation_id, day, weeks, caseloads)
    VALUES (organisation, on_day, found_weeks, found_caseloads)
    ON CONFLICT (organisation_id, day) DO NOTHING;
  END IF;
  RETURN QUERY SELECT found_weeks, found_caseloads, rempart_guard_weeks_read(ARRAY[account], day_start);
END
$$;
REVOKE ALL ON FUNCTION rempart_guard_coverage(uuid, uuid, date, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_coverage(uuid, uuid, date, timestamptz) TO rempart_app;
