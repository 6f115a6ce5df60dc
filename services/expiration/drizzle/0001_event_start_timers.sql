CREATE TABLE "event_start_timers" (
	"ticket_id" uuid PRIMARY KEY NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"version" integer NOT NULL,
	"fired" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX "event_start_timers_due_idx" ON "event_start_timers" USING btree ("starts_at") WHERE not "event_start_timers"."fired";