CREATE TABLE "session_revocations" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"session_id" uuid,
	"revoked_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "session_revocations_one_per_session" ON "session_revocations" USING btree ("session_id");--> statement-breakpoint
CREATE UNIQUE INDEX "session_revocations_one_per_cutoff" ON "session_revocations" USING btree ("user_id","revoked_at") WHERE "session_revocations"."session_id" is null;--> statement-breakpoint
CREATE INDEX "session_revocations_expires_idx" ON "session_revocations" USING btree ("expires_at");