-- Issue 16 item 3, B4: what an operation awaits, event by event: one row per event it caused and
-- service whose step the catalogue expects for it, the command's own events and the follow-ups
-- steps report (visits.unassigned after a deactivation ...). It is completed when every row has
-- its step (matched by cause event id), not when a service has reported "enough" steps.
CREATE TABLE "operation_awaited" (
    "operation_id" UUID NOT NULL,
    "event_id" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    CONSTRAINT "operation_awaited_pkey" PRIMARY KEY ("operation_id", "event_id", "service"),
    CONSTRAINT "operation_awaited_operation_id_fkey" FOREIGN KEY ("operation_id") REFERENCES "operation"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
