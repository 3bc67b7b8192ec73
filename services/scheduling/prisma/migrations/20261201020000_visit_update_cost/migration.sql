-- What a bulk cascade costs per visit (bench/cascade-scheduling). sitter_id is indexed, so
-- unassigning a visit is never a HOT update: every index gets a new entry. Ad-hoc visits have no
-- schedule, so the occurrence key only needs to index generated ones; and free room on each page
-- lets the new row version stay on its page (fewer pages written by a 100,000-visit UPDATE).
DROP INDEX "visit_schedule_occurrence_key";
CREATE UNIQUE INDEX "visit_schedule_occurrence_key" ON "visit"("schedule_id", "occurrence_local") WHERE "schedule_id" IS NOT NULL;
ALTER TABLE "visit" SET (fillfactor = 90);
