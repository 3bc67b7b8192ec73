-- P7: lists of several statuses (active and inactive, the default list) read people in name
-- order straight from this index and stop after a page, instead of sorting the whole tenant.
CREATE INDEX "person_tenant_sort_idx" ON "person"("tenant_id", "sort_key", "id");
