-- Issue 19, N3: on Kafka, access.granted and user.created travel in different topics, so a grant
-- can be handled before its person is known here. Its membership is applied at once; the grant
-- (no secret in it) waits here for the person, and its e-mail goes once they are known.
CREATE TABLE "access_grant_awaiting_person" (
    "event_id" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "event" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "access_grant_awaiting_person_pkey" PRIMARY KEY ("event_id")
);

CREATE INDEX "access_grant_awaiting_person_person_id_idx" ON "access_grant_awaiting_person"("person_id");
