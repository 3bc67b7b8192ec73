-- Identity's own data (L1-L8, rule 7) and the projections it decides from (rule 1).

-- What identity knows of a person's profile: names and addresses, ordered by the person's version.
ALTER TABLE "person_projection" ADD COLUMN "first_name" TEXT;
ALTER TABLE "person_projection" ADD COLUMN "last_name" TEXT;
ALTER TABLE "person_projection" ADD COLUMN "email" TEXT;
ALTER TABLE "person_projection" ADD COLUMN "phone" TEXT;
ALTER TABLE "person_projection" ADD COLUMN "profile_version" INTEGER NOT NULL DEFAULT 0;

-- A person's role per account (from user.created, access.granted/revoked, role.changed).
CREATE TABLE "membership_projection" (
    "person_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "membership_projection_pkey" PRIMARY KEY ("person_id", "account_id")
);
CREATE INDEX "membership_projection_tenant_id_account_id_idx" ON "membership_projection"("tenant_id", "account_id");

-- The account tree (account.created): a supervisor's areas and what lies under them.
CREATE TABLE "account_projection" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "parent_id" UUID,
    "name" TEXT NOT NULL,
    CONSTRAINT "account_projection_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "account_projection_tenant_id_parent_id_idx" ON "account_projection"("tenant_id", "parent_id");

-- Custom roles of a tenant (role.defined): tokens carry their permissions.
CREATE TABLE "custom_role" (
    "tenant_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "permissions" TEXT[] NOT NULL,
    "scope" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    CONSTRAINT "custom_role_pkey" PRIMARY KEY ("tenant_id", "key")
);

-- A login: username unique across tenants (normalized NFKC + lower case, L2), argon2id hash.
CREATE TABLE "login" (
    "person_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "password_hash" TEXT,
    "password_temporary" BOOLEAN NOT NULL DEFAULT false,
    "temporary_expires_at" TIMESTAMPTZ(3),
    "password_change_required" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "sessions_not_before" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "login_pkey" PRIMARY KEY ("person_id")
);
CREATE UNIQUE INDEX "login_username_key" ON "login"("username");
CREATE INDEX "login_tenant_id_idx" ON "login"("tenant_id");

-- A session: one refresh-token family (rule 7).
CREATE TABLE "session" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "password_change_required" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_reason" TEXT,
    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "session_person_id_idx" ON "session"("person_id");

-- Refresh tokens, stored as SHA-256 only; a used one presented again betrays a theft.
CREATE TABLE "refresh_token" (
    "token_hash" TEXT NOT NULL,
    "session_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "used_at" TIMESTAMPTZ(3),
    CONSTRAINT "refresh_token_pkey" PRIMARY KEY ("token_hash")
);
CREATE INDEX "refresh_token_session_id_idx" ON "refresh_token"("session_id");

-- Failed password attempts per username and per client address (L8).
CREATE TABLE "login_throttle" (
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "blocked_until" TIMESTAMPTZ(3),
    "last_failure_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "login_throttle_pkey" PRIMARY KEY ("key")
);

-- Impersonations (L7, B5): who acted as whom, why, until when.
CREATE TABLE "impersonation" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "impersonator_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "impersonation_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "impersonation_tenant_id_person_id_idx" ON "impersonation"("tenant_id", "person_id");

-- Invitations (P8) from directory's events; the token is known only by its SHA-256.
CREATE TABLE "invitation_projection" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    "token_hash" TEXT,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT NOT NULL,
    "email" TEXT,
    "phone" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "accepted_person_id" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "invitation_projection_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "invitation_projection_token_hash_idx" ON "invitation_projection"("token_hash");
