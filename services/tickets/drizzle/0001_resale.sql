CREATE TABLE "ticket_transfers" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"ticket_id" uuid NOT NULL,
	"from_user_id" uuid NOT NULL,
	"to_user_id" uuid NOT NULL,
	"price_cents" integer NOT NULL,
	"transferred_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "tickets_available_idx";--> statement-breakpoint
-- Tickets listed before resale existed: their face value is their price, and their seller has
-- owned them since they were listed.
ALTER TABLE "tickets" ADD COLUMN "face_value_cents" integer;--> statement-breakpoint
UPDATE "tickets" SET "face_value_cents" = "price_cents";--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "face_value_cents" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "acquired_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
UPDATE "tickets" SET "acquired_at" = "created_at";--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "listed" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "times_sold" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "credential_seed" "bytea";--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "credential_hash" "bytea";--> statement-breakpoint
ALTER TABLE "ticket_transfers" ADD CONSTRAINT "ticket_transfers_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ticket_transfers_by_ticket_idx" ON "ticket_transfers" USING btree ("ticket_id","transferred_at");--> statement-breakpoint
CREATE INDEX "tickets_for_sale_idx" ON "tickets" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "tickets"."listed" and "tickets"."order_id" is null;--> statement-breakpoint
CREATE INDEX "tickets_by_owner_idx" ON "tickets" USING btree ("user_id","acquired_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_credential_hash_idx" ON "tickets" USING btree ("credential_hash");