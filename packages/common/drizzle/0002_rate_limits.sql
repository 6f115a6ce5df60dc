-- UNLOGGED: rate-limit counts are written on many requests and need neither WAL nor a flush at
-- commit; after a crash of the server the table is empty, which only forgets recent counts.
CREATE UNLOGGED TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"hits" integer NOT NULL,
	"blocked_until" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL
);
