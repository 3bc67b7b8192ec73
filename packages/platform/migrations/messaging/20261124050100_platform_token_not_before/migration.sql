-- Per-subject "not before" of access tokens (B2, rule 7): fed by revocation events, loaded at
-- start-up, in every service. IF NOT EXISTS: before issue 19 each service created it in its own
-- 20261130000000_token_not_before, identical to this.
CREATE TABLE IF NOT EXISTS "token_not_before" (
    "person_id" TEXT NOT NULL,
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT NOT NULL,
    CONSTRAINT "token_not_before_pkey" PRIMARY KEY ("person_id")
);
