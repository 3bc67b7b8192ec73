-- roster-migrate: first applied as sha256:905af5d446e3636714a4fb6ecc1f7fecc022bdf7dfbb46530a226f23f321b30e, which also created the platform's tables
-- (person_projection, outbox, inbox); since issue 19 they come from packages/platform/migrations, applied before this.

-- CreateTable
CREATE TABLE "visit" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "client_id" UUID NOT NULL,
    "sitter_id" UUID,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'scheduled',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "visit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "visit_tenant_id_sitter_id_starts_at_idx" ON "visit"("tenant_id", "sitter_id", "starts_at");

-- CreateIndex
CREATE INDEX "visit_tenant_id_client_id_starts_at_idx" ON "visit"("tenant_id", "client_id", "starts_at");
