-- S3: a client's request for visits, a change or a cancellation, and its answer.
-- `visits` holds what was asked ([{startsAt, endsAt, service}]); `visit_ids` what the approval
-- created, moved or cancelled. A request is answered once: status leaves 'pending' only once.
CREATE TABLE "visit_request" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "client_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "visit_id" UUID,
    "visits" JSONB NOT NULL DEFAULT '[]',
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "note" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "submitted_by" UUID,
    "submitted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "answered_by" UUID,
    "answered_at" TIMESTAMPTZ(3),
    "decline_reason" TEXT,
    "visit_ids" UUID[] NOT NULL DEFAULT '{}',
    CONSTRAINT "visit_request_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "visit_request_kind_check" CHECK ("kind" IN ('visits', 'change', 'cancel')),
    CONSTRAINT "visit_request_status_check" CHECK ("status" IN ('pending', 'approved', 'declined', 'withdrawn'))
);

CREATE INDEX "visit_request_tenant_status_idx" ON "visit_request" ("tenant_id", "status", "submitted_at", "id");
CREATE INDEX "visit_request_tenant_client_idx" ON "visit_request" ("tenant_id", "client_id", "submitted_at", "id");
-- The system declines pending requests whose visit went (deleted or completed): found through this.
CREATE INDEX "visit_request_pending_visit_idx" ON "visit_request" ("visit_id") WHERE "status" = 'pending' AND "visit_id" IS NOT NULL;
