-- Notifications (N1-N3, B6): what it knows of people, accounts and memberships (rule 1), per-tenant
-- templates, subscriptions, monitors, and the message queue that is also the delivery log.

-- The person's profile: where messages go and whether they opted in to the daily reminder.
ALTER TABLE "person_projection"
    ADD COLUMN "first_name" TEXT,
    ADD COLUMN "last_name" TEXT,
    ADD COLUMN "email" TEXT,
    ADD COLUMN "phone" TEXT;

-- Usernames from login.granted: a new password message names the login it is for (L5).
CREATE TABLE "login_projection" (
    "person_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    CONSTRAINT "login_projection_pkey" PRIMARY KEY ("person_id")
);

-- A role per account (P2), from user.created / access.* / role.changed: managers of a sitter's accounts.
CREATE TABLE "person_membership" (
    "tenant_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "person_membership_pkey" PRIMARY KEY ("person_id", "account_id")
);
CREATE INDEX "person_membership_tenant_id_account_id_idx" ON "person_membership"("tenant_id", "account_id");

-- The account tree (P1): an owner at the root hears about a branch's sitter.
CREATE TABLE "account_projection" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "parent_id" UUID,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    CONSTRAINT "account_projection_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "account_projection_tenant_id_idx" ON "account_projection"("tenant_id");

-- A tenant's override of a default template (N3).
CREATE TABLE "message_template" (
    "tenant_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "updated_by" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "message_template_pkey" PRIMARY KEY ("tenant_id", "key")
);

-- Automatic schedule e-mails and daily reminders (N2), per person.
CREATE TABLE "subscription" (
    "person_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "schedule_emails" BOOLEAN NOT NULL DEFAULT false,
    "daily_reminder" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "subscription_pkey" PRIMARY KEY ("person_id")
);
CREATE INDEX "subscription_tenant_id_idx" ON "subscription"("tenant_id");

-- Event e-mail monitors (N2): a manager receives an e-mail when an event of a type happens.
CREATE TABLE "monitor" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "review_reason" TEXT,
    "flagged_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "monitor_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "monitor_tenant_id_event_type_idx" ON "monitor"("tenant_id", "event_type");
CREATE INDEX "monitor_tenant_id_person_id_idx" ON "monitor"("tenant_id", "person_id");

-- The queue and the delivery log in one: a row per message, written by the reaction's transaction
-- (status queued), claimed by a sender (FOR UPDATE SKIP LOCKED, a claim that expires), sent once.
CREATE TABLE "message" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    -- (causing event, template, recipient): the unique index makes one message per cause.
    "idempotency_key" TEXT NOT NULL,
    "cause_event_id" TEXT,
    "cause_type" TEXT,
    "correlation_id" TEXT,
    "template" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "recipient_person_id" UUID,
    "to_address" TEXT NOT NULL,
    "variables" JSONB NOT NULL,
    -- A temporary password or invitation token, still sealed (rule 5); dropped once sent or failed.
    "sealed_secret" JSONB,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_by" TEXT,
    "claimed_until" TIMESTAMPTZ(3),
    "provider" TEXT,
    "provider_message_id" TEXT,
    "delivery_status" TEXT,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "message_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "message_tenant_id_idempotency_key_key" ON "message"("tenant_id", "idempotency_key");
CREATE INDEX "message_due_idx" ON "message"("next_attempt_at") WHERE "status" = 'queued';
CREATE INDEX "message_claimed_idx" ON "message"("claimed_until") WHERE "status" = 'sending';
CREATE INDEX "message_tenant_id_created_at_idx" ON "message"("tenant_id", "created_at" DESC, "id" DESC);
CREATE INDEX "message_provider_message_id_idx" ON "message"("provider", "provider_message_id");

-- Each provider attempt of a message (B6: failover shows as two attempts of one send).
CREATE TABLE "message_attempt" (
    "id" BIGSERIAL NOT NULL,
    "message_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "provider" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "message_attempt_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "message_attempt_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE
);
CREATE INDEX "message_attempt_message_id_idx" ON "message_attempt"("message_id");
