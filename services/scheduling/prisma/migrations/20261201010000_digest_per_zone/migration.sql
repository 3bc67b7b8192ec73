-- N2: a digest covers one sitter's day in one time zone (the day is local to the visits' zone),
-- so a sitter with visits in two zones on the same date gets one digest for each.
ALTER TABLE "digest_sent" ADD COLUMN "time_zone" TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE "digest_sent" DROP CONSTRAINT "digest_sent_pkey";
ALTER TABLE "digest_sent" ADD CONSTRAINT "digest_sent_pkey" PRIMARY KEY ("sitter_id", "day", "time_zone");
