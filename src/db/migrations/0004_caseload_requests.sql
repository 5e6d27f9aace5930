-- 0004: widening a caseload is a provisioning request too (T8): an agency manager asks to entrust
-- some of the agency's persons to a partner organisation; another manager approves.
ALTER TABLE provisioning_requests DROP CONSTRAINT provisioning_requests_kind_check;
ALTER TABLE provisioning_requests ADD CONSTRAINT provisioning_requests_kind_check
  CHECK (kind IN ('create_account', 'grant_role', 'widen_caseload'));
