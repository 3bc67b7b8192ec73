-- N1, L4 (issue 19): on Kafka a login.granted or password.reset can be handled before its person
-- is known here, like an access.granted. The credentials go at once (the person needs them); what
-- needs the person — telling the address on file that they went elsewhere — waits in the same
-- table as the grants, which now holds any event waiting for its person (its secret left out).
ALTER TABLE "access_grant_awaiting_person" RENAME TO "event_awaiting_person";
ALTER TABLE "event_awaiting_person" RENAME CONSTRAINT "access_grant_awaiting_person_pkey" TO "event_awaiting_person_pkey";
ALTER INDEX "access_grant_awaiting_person_person_id_idx" RENAME TO "event_awaiting_person_person_id_idx";
