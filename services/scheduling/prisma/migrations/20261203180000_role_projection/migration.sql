-- Issue 15 item 6, rule 8: a tenant's custom roles (role.defined), so a custom role's scope means
-- here what it means in the directory (assigned clients, own areas, self, account).
CREATE TABLE "role_projection" (
    "tenant_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "permissions" TEXT[] NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "role_projection_pkey" PRIMARY KEY ("tenant_id", "key")
);
