CREATE TABLE "expiration_timers" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "expiration_timers_due_idx" ON "expiration_timers" USING btree ("expires_at");