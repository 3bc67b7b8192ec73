-- What a service that reacts to people knows of each one (people-projection.ts): kind, status and
-- the version of the last person event applied (rule 3). Each service adds the columns it needs
-- in its own migrations (identity names and addresses, scheduling assignees, ...). IF NOT EXISTS:
-- before issue 19 each such service created it in its own 20261124060000_init, identical to this.
CREATE TABLE IF NOT EXISTS "person_projection" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "person_projection_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "person_projection_tenant_id_status_idx" ON "person_projection"("tenant_id", "status");
