-- 0012: demo accounts. `rempart serve --demo` (npm start) creates staff accounts to try Rempart on a
-- synthetic population; the guard gives them its demo levels (docs/GUARD.md, "Demo accounts") and
-- they skip probation. The mark is set only when the account is created by the operator's CLI (the
-- system actor) and never changes afterwards: no staff request, no API, can make an account a demo
-- account and so loosen its own guard (T1, T8).
ALTER TABLE accounts ADD COLUMN demo boolean NOT NULL DEFAULT false;

CREATE FUNCTION rempart_accounts_demo_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.demo AND rempart_actor_kind() <> 'system' THEN
      RAISE EXCEPTION 'only the operator marks a demo account' USING ERRCODE = 'insufficient_privilege';
    END IF;
  ELSIF NEW.demo IS DISTINCT FROM OLD.demo THEN
    RAISE EXCEPTION 'an account''s demo mark never changes' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER accounts_demo_fixed BEFORE INSERT OR UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION rempart_accounts_demo_fixed();
