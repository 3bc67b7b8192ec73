-- The platform's outbox (events written with the change that caused them, published by the relay)
-- and inbox (events already handled, per consumer: rule 2), the same in every service's database.
-- IF NOT EXISTS: a database migrated before issue 19 got these tables from the service's own
-- 20261124060000_init, identical to this; it adopts them unchanged.
CREATE TABLE IF NOT EXISTS "outbox" (
    "position" BIGSERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("position")
);
CREATE UNIQUE INDEX IF NOT EXISTS "outbox_id_key" ON "outbox"("id");
CREATE INDEX IF NOT EXISTS "outbox_published_at_position_idx" ON "outbox"("published_at", "position");

CREATE TABLE IF NOT EXISTS "inbox" (
    "consumer" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "handled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_pkey" PRIMARY KEY ("consumer","event_id")
);
CREATE INDEX IF NOT EXISTS "inbox_handled_at_idx" ON "inbox"("handled_at");
