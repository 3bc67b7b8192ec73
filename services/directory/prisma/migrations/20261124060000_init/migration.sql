-- roster-migrate: first applied as sha256:a4209fafb2c56dfef2a4df08a8ee68e729ed2c3b663d0628180c7c400c9d1398, which also created the platform's tables
-- (outbox, inbox); since issue 19 they come from packages/platform/migrations, applied before this.

-- CreateTable
CREATE TABLE "person" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT NOT NULL,
    "email" TEXT,
    "phone" TEXT,
    "account_id" UUID NOT NULL,
    "role_key" TEXT,
    "status" TEXT NOT NULL DEFAULT 'active',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "person_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operation" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "subject_id" UUID,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "expected" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "operation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operation_step" (
    "id" UUID NOT NULL,
    "operation_id" UUID NOT NULL,
    "service" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "counts" JSONB NOT NULL,
    "duration_ms" DOUBLE PRECISION NOT NULL,
    "dry_run" BOOLEAN NOT NULL,
    "detail" TEXT,
    "cause_type" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "operation_step_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "person_tenant_id_status_idx" ON "person"("tenant_id", "status");

-- CreateIndex
CREATE INDEX "operation_tenant_id_created_at_idx" ON "operation"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "operation_step_operation_id_idx" ON "operation_step"("operation_id");

-- AddForeignKey
ALTER TABLE "operation_step" ADD CONSTRAINT "operation_step_operation_id_fkey" FOREIGN KEY ("operation_id") REFERENCES "operation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
