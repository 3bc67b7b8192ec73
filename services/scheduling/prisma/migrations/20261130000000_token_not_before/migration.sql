-- Per-subject "not before" of access tokens (B2, rule 7): fed by revocation events, loaded at start-up.
CREATE TABLE "token_not_before" (
    "person_id" TEXT NOT NULL,
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT NOT NULL,
    CONSTRAINT "token_not_before_pkey" PRIMARY KEY ("person_id")
);
