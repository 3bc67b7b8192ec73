-- Directory core (issue 3): tenants, the account tree, memberships, custom roles, people's
-- profile and login projection, search columns, the audit trail, operation progress.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- P1: a tenant and its root account.
CREATE TABLE "tenant" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "root_account_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "tenant_pkey" PRIMARY KEY ("id")
);

-- P1: accounts form a tree; "ancestors" holds the path from the root down to the account itself,
-- so "every account under X" is `X = ANY(ancestors)` (a role held on X reaches them, P2).
CREATE TABLE "account" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "parent_id" UUID,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "ancestors" UUID[] NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "account_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "account_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "account"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "account_tenant_id_created_at_idx" ON "account"("tenant_id", "created_at", "id");
CREATE INDEX "account_ancestors_idx" ON "account" USING GIN ("ancestors");

-- P1, P5, P6: profile, preferences, the client's assignee, the login state seen from identity's events.
ALTER TABLE "person"
    ADD COLUMN "default_landing_page" TEXT,
    ADD COLUMN "daily_reminder" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "assignee_id" UUID,
    ADD COLUMN "has_login" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "login_enabled" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "login_changed_at" TIMESTAMPTZ(3),
    -- Identity of a person across the tenant's branches (P8): e-mail case-insensitively, phone by its digits.
    ADD COLUMN "email_key" TEXT GENERATED ALWAYS AS (lower("email")) STORED,
    ADD COLUMN "phone_key" TEXT GENERATED ALWAYS AS (NULLIF(regexp_replace("phone", '[^0-9]', '', 'g'), '')) STORED,
    -- P7: list order (keyset) and what a search fragment is matched against.
    ADD COLUMN "sort_key" TEXT GENERATED ALWAYS AS (lower("last_name" || ' ' || "first_name")) STORED,
    ADD COLUMN "search_text" TEXT GENERATED ALWAYS AS (lower("first_name" || ' ' || "last_name" || ' ' || COALESCE("email", '') || ' ' || COALESCE(regexp_replace("phone", '[^0-9]', '', 'g'), ''))) STORED;

CREATE UNIQUE INDEX "person_tenant_email_key" ON "person"("tenant_id", "email_key") WHERE "email_key" IS NOT NULL;
CREATE UNIQUE INDEX "person_tenant_phone_key" ON "person"("tenant_id", "phone_key") WHERE "phone_key" IS NOT NULL;
CREATE INDEX "person_search_text_trgm_idx" ON "person" USING GIN ("search_text" gin_trgm_ops);
CREATE INDEX "person_tenant_status_sort_idx" ON "person"("tenant_id", "status", "sort_key", "id");
CREATE INDEX "person_tenant_assignee_idx" ON "person"("tenant_id", "assignee_id") WHERE "assignee_id" IS NOT NULL;

-- P2, P4: a role per account.
CREATE TABLE "membership" (
    "tenant_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "membership_pkey" PRIMARY KEY ("person_id", "account_id"),
    CONSTRAINT "membership_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "membership_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "membership_account_id_role_key_idx" ON "membership"("account_id", "role_key");
CREATE INDEX "membership_tenant_id_role_key_idx" ON "membership"("tenant_id", "role_key");

-- P2: custom roles of a tenant (built-in roles live in packages/contracts).
CREATE TABLE "role" (
    "tenant_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "permissions" TEXT[] NOT NULL,
    "scope" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "role_pkey" PRIMARY KEY ("tenant_id", "key")
);

-- P9: who did what to whom, when; written in the transaction of the change.
CREATE TABLE "audit_entry" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_kind" TEXT NOT NULL,
    "actor_person_id" TEXT,
    "impersonator_id" TEXT,
    "action" TEXT NOT NULL,
    "subject_id" TEXT,
    "account_ids" UUID[] NOT NULL DEFAULT '{}',
    "operation_id" UUID,
    "detail" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "audit_entry_pkey" PRIMARY KEY ("seq")
);
CREATE UNIQUE INDEX "audit_entry_id_key" ON "audit_entry"("id");
CREATE INDEX "audit_entry_tenant_id_seq_idx" ON "audit_entry"("tenant_id", "seq");
CREATE INDEX "audit_entry_tenant_id_subject_id_seq_idx" ON "audit_entry"("tenant_id", "subject_id", "seq");
CREATE INDEX "audit_entry_account_ids_idx" ON "audit_entry" USING GIN ("account_ids");

-- B4: an operation that emits many events (bulk access) completes when every expected service
-- has reported a step for every one of them, not at the first step.
ALTER TABLE "operation"
    ADD COLUMN "expected_counts" JSONB,
    ADD COLUMN "reported_counts" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "operation_step" ADD COLUMN "cause_event_id" TEXT;
CREATE INDEX "operation_step_operation_id_service_cause_event_id_idx" ON "operation_step"("operation_id", "service", "cause_event_id");
