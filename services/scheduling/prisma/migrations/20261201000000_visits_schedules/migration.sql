-- Visits, recurring schedules, surcharges, default sitters (S1, S2, B7) and what scheduling needs
-- to know of people (rule 1): names (digest), a client's account and assignee (salesperson scope,
-- P3), memberships (only active staff with access may be assigned).

ALTER TABLE "person_projection"
  ADD COLUMN "first_name" TEXT,
  ADD COLUMN "last_name" TEXT,
  ADD COLUMN "account_id" UUID,
  ADD COLUMN "default_sitter_id" UUID,
  ADD COLUMN "assignee_id" UUID,
  ADD COLUMN "assignee_changed_at" TIMESTAMPTZ(3);

CREATE INDEX "person_projection_default_sitter_idx" ON "person_projection"("tenant_id", "default_sitter_id") WHERE "default_sitter_id" IS NOT NULL;
CREATE INDEX "person_projection_assignee_idx" ON "person_projection"("tenant_id", "assignee_id") WHERE "assignee_id" IS NOT NULL;

-- A person's role in an account, from user.created (first membership), access.granted/revoked and
-- role.changed. Revocations stay as inactive rows so that an older grant arriving late loses (rule 3).
CREATE TABLE "membership" (
    "person_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "membership_pkey" PRIMARY KEY ("person_id", "account_id")
);
CREATE INDEX "membership_tenant_account_idx" ON "membership"("tenant_id", "account_id");

-- The account tree (P1), for a supervisor's own areas.
CREATE TABLE "account_projection" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "parent_id" UUID,
    "kind" TEXT NOT NULL,
    CONSTRAINT "account_projection_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "account_projection_parent_idx" ON "account_projection"("tenant_id", "parent_id");

-- A recurring schedule (S1, B7): RRULE over floating wall-clock times, an IANA zone, a start time.
CREATE TABLE "schedule" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "client_id" UUID NOT NULL,
    "sitter_id" UUID,
    "rrule" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "start_time" TEXT NOT NULL,
    "start_date" DATE NOT NULL,
    "duration_minutes" INTEGER NOT NULL,
    "service" TEXT,
    "generated_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "schedule_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "schedule_tenant_client_idx" ON "schedule"("tenant_id", "client_id");
CREATE INDEX "schedule_tenant_sitter_idx" ON "schedule"("tenant_id", "sitter_id");

ALTER TABLE "visit"
  ADD COLUMN "schedule_id" UUID,
  ADD COLUMN "occurrence_local" TIMESTAMP(0),
  ADD COLUMN "time_zone" TEXT NOT NULL DEFAULT 'UTC',
  ADD COLUMN "service" TEXT,
  ADD COLUMN "completed_at" TIMESTAMPTZ(3),
  ADD COLUMN "completed_by" UUID,
  ADD CONSTRAINT "visit_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedule"("id") ON DELETE SET NULL,
  ADD CONSTRAINT "visit_ends_after_start" CHECK ("ends_at" > "starts_at");

-- B7: one visit per schedule and occurrence (local date-time), however often it is generated.
CREATE UNIQUE INDEX "visit_schedule_occurrence_key" ON "visit"("schedule_id", "occurrence_local");
CREATE INDEX "visit_tenant_starts_at_idx" ON "visit"("tenant_id", "starts_at", "id");
CREATE INDEX "visit_assigned_starts_at_idx" ON "visit"("starts_at") WHERE "sitter_id" IS NOT NULL;

CREATE TABLE "surcharge" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "visit_id" UUID NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "surcharge_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "surcharge_visit_id_fkey" FOREIGN KEY ("visit_id") REFERENCES "visit"("id") ON DELETE CASCADE
);
CREATE INDEX "surcharge_visit_idx" ON "surcharge"("visit_id");

-- N2: one schedule digest per sitter per day, written with its outbox row (safe with replicas).
CREATE TABLE "digest_sent" (
    "sitter_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "tenant_id" UUID NOT NULL,
    "visit_count" INTEGER NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "digest_sent_pkey" PRIMARY KEY ("sitter_id", "day")
);
