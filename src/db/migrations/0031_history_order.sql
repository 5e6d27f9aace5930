-- 0031: a person's history (src/audit/scope.ts, ACCESS_HISTORY_SQL) is ordered by time then event
-- id, newest first, and reads one page. With the index on (person_id, occurred_at) alone, the
-- order needed a sort of every link of the person; under the person's row-level security the planner
-- estimates one row and sorts them all, each joined to its event and checked by the events' policy
-- first: at 10,000,000 events, 1,016 links read for a page of 100, 31 ms (docs/BENCHMARKS.md).
-- With the event id in the index, a backward scan yields the page's order and stops at the page:
-- 3.6 ms, for 8 more bytes per link in the index.
DROP INDEX audit_event_persons_person;
CREATE INDEX audit_event_persons_person ON audit_event_persons (person_id, occurred_at, event_id);
