-- Issue 19 (P8): finding who already holds an e-mail or phone must not read the whole tenant. Since
-- 20261203150000 the unique indexes leave archived people out, so a lookup that includes them (the
-- people API's 409, invitations) fell back to every person of the tenant: ~9 ms per new person at
-- 9,000 people, growing with the tenant. Archived people get lookup indexes of their own (small,
-- and untouched when an active person is written); the queries ask the two kinds separately.
CREATE INDEX "person_archived_email_idx" ON "person"("tenant_id", "email_key") WHERE "status" = 'archived' AND "email_key" IS NOT NULL;
CREATE INDEX "person_archived_phone_idx" ON "person"("tenant_id", "phone_key") WHERE "status" = 'archived' AND "phone_key" IS NOT NULL;
