CREATE TABLE "deferred_events" (
	"consumer" text NOT NULL,
	"event_id" text NOT NULL,
	"deferrals" integer DEFAULT 1 NOT NULL,
	"first_deferred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deferred_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
