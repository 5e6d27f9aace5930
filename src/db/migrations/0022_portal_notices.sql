-- 0022: "my notices" in the person's portal (docs/PORTAL.md; GDPR art. 34). The person actor of
-- migration 0019 reads its own notices (the signed text, still encrypted under its own data key: the
-- portal decrypts it in the person's transaction) and nobody else's: another person's notice id
-- reads as no row at all, the same as an unknown id. Reading only: the sending job (system actor,
-- migration 0018's policy) alone writes notices.
CREATE POLICY notices_person ON notices FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND person_id = rempart_person_id());
