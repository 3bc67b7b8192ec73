-- Issue 19, P4: one person given many accounts in one operation gets one e-mail. Each
-- access.granted says how many the operation grants that person; the grants wait here until the
-- last one arrives, then one summarising message is queued and the rows go.
CREATE TABLE "access_notice" (
    "tenant_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "operation_id" TEXT NOT NULL,
    "expected" INTEGER NOT NULL,
    "received" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "access_notice_pkey" PRIMARY KEY ("person_id", "operation_id")
);

CREATE TABLE "access_notice_grant" (
    "tenant_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "operation_id" TEXT NOT NULL,
    "account_id" UUID NOT NULL,
    "role_key" TEXT NOT NULL,
    CONSTRAINT "access_notice_grant_pkey" PRIMARY KEY ("person_id", "operation_id", "account_id")
);
