-- Rule 9, B4: the trace context of the command that started an operation, so that its status
-- (and `roster trace`) links to the trace that follows the cascade.
ALTER TABLE "operation" ADD COLUMN "traceparent" TEXT;
