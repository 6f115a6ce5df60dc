CREATE TABLE "delivery_attempts" (
	"consumer" text NOT NULL,
	"event_id" text NOT NULL,
	"started" integer DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"deferrals" integer DEFAULT 0 NOT NULL,
	"outages" integer DEFAULT 0 NOT NULL,
	"first_deferred_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "delivery_attempts_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
-- Earlier versions could record an event twice for one consumer: keep the first record of each.
DELETE FROM "dead_letters" a USING "dead_letters" b
  WHERE a."consumer" = b."consumer" AND a."event_id" = b."event_id" AND a."id" > b."id";
--> statement-breakpoint
CREATE UNIQUE INDEX "dead_letters_once_per_consumer" ON "dead_letters" USING btree ("consumer","event_id");