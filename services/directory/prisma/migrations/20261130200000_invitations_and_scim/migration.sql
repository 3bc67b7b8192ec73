-- P8 invitations and B3 SCIM provisioning. Acceptance and SCIM tokens are kept only as SHA-256 hex.
CREATE TABLE "invitation" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT NOT NULL,
    "email" TEXT,
    "phone" TEXT,
    "channel" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "invited_by" UUID,
    "sent_count" INTEGER NOT NULL DEFAULT 1,
    "accepted_person_id" UUID,
    "settled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "invitation_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "invitation_token_hash_key" ON "invitation"("token_hash");
CREATE INDEX "invitation_tenant_id_status_created_at_id_idx" ON "invitation"("tenant_id", "status", "created_at", "id");

CREATE TABLE "scim_token" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "account_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "scim_token_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "scim_token_token_hash_key" ON "scim_token"("token_hash");
CREATE INDEX "scim_token_tenant_id_idx" ON "scim_token"("tenant_id");

CREATE TABLE "scim_user" (
    "person_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "user_name" TEXT NOT NULL,
    "user_name_key" TEXT NOT NULL,
    "external_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "scim_user_pkey" PRIMARY KEY ("person_id")
);
CREATE UNIQUE INDEX "scim_user_tenant_id_user_name_key_key" ON "scim_user"("tenant_id", "user_name_key");
CREATE INDEX "scim_user_tenant_id_external_id_idx" ON "scim_user"("tenant_id", "external_id");
