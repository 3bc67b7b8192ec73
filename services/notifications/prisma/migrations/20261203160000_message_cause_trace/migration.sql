-- Issue 16 item 3: notification.sent / notification.failed carry the causation id and the trace
-- context of the event that queued the message, so a cascade's trace reaches its e-mails.
ALTER TABLE "message" ADD COLUMN "cause_traceparent" TEXT, ADD COLUMN "cause_tracestate" TEXT;
