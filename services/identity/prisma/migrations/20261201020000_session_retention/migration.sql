-- Retention (issue 4): the periodic clean-up finds sessions that expired or were revoked long ago
-- by these indexes instead of scanning every session. Plain CREATE INDEX: migrations run in a
-- transaction, where CONCURRENTLY is not allowed; the session table is locked for writes while
-- the indexes are built.
CREATE INDEX "session_expires_at_idx" ON "session"("expires_at");
CREATE INDEX "session_revoked_at_idx" ON "session"("revoked_at");
