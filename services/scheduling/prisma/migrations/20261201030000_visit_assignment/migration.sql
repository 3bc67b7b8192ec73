-- Who does a visit lives in its own table. Unassigning a sitter's upcoming visits is the hot path
-- of the deactivation cascade: here it is a DELETE of small rows (no new row versions, no new
-- index entries), where updating visit.sitter_id wrote a new version of every visit with an entry
-- in each of its indexes (sitter_id being indexed, never a HOT update): ~20x slower at 100,000
-- visits (bench/cascade-scheduling). starts_at and completed mirror the visit's, kept in step by
-- every command in the same transaction, so that the cascade reads no visit row.
CREATE TABLE "visit_assignment" (
    "visit_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "sitter_id" UUID NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "completed" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "visit_assignment_pkey" PRIMARY KEY ("visit_id"),
    CONSTRAINT "visit_assignment_visit_id_fkey" FOREIGN KEY ("visit_id") REFERENCES "visit"("id") ON DELETE CASCADE
);
CREATE INDEX "visit_assignment_sitter_idx" ON "visit_assignment"("tenant_id", "sitter_id", "starts_at");
CREATE INDEX "visit_assignment_starts_at_idx" ON "visit_assignment"("starts_at");

INSERT INTO "visit_assignment" ("visit_id", "tenant_id", "sitter_id", "starts_at", "completed")
SELECT "id", "tenant_id", "sitter_id", "starts_at", "status" = 'completed' FROM "visit" WHERE "sitter_id" IS NOT NULL;

DROP INDEX "visit_assigned_starts_at_idx";
ALTER TABLE "visit" DROP COLUMN "sitter_id";
