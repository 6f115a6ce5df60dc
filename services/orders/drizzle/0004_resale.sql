DROP INDEX "orders_one_active_per_ticket";--> statement-breakpoint
-- Orders placed before resale existed: the seller is the ticket's owner, which tickets never
-- changed then; a completed one is taken as paid when it was placed (the time is not known).
ALTER TABLE "orders" ADD COLUMN "seller_id" uuid;--> statement-breakpoint
UPDATE "orders" SET "seller_id" = "tickets"."seller_id" FROM "tickets" WHERE "tickets"."id" = "orders"."ticket_id";--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "seller_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "ticket_times_sold" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
UPDATE "orders" SET "completed_at" = "created_at" WHERE "status" = 'complete';--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "listed" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "times_sold" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "orders_sales_by_seller_idx" ON "orders" USING btree ("seller_id","completed_at") WHERE "orders"."status" = 'complete';--> statement-breakpoint
CREATE UNIQUE INDEX "orders_one_active_per_ticket" ON "orders" USING btree ("ticket_id","ticket_times_sold") WHERE "orders"."status" in ('created', 'awaiting:payment', 'complete');