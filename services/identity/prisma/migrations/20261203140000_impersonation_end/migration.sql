-- Issue 16 item 4: when and how an impersonation ended is recorded (and announced), so the
-- audit trail of both people shows it; the expiry sweep finds open ones by this index.
ALTER TABLE "impersonation" ADD COLUMN "ended_at" TIMESTAMPTZ(3);
CREATE INDEX "impersonation_ended_at_expires_at_idx" ON "impersonation"("ended_at", "expires_at");
