-- Issue 16 item 9, RFC 7644 §3.6: an archived person (a deleted SCIM User) takes no part in
-- uniqueness; a new person may use the e-mail or phone. Restoring the archived one is refused (409)
-- while someone else holds them.
DROP INDEX "person_tenant_email_key";
DROP INDEX "person_tenant_phone_key";
CREATE UNIQUE INDEX "person_tenant_email_key" ON "person"("tenant_id", "email_key") WHERE "email_key" IS NOT NULL AND "status" <> 'archived';
CREATE UNIQUE INDEX "person_tenant_phone_key" ON "person"("tenant_id", "phone_key") WHERE "phone_key" IS NOT NULL AND "status" <> 'archived';
