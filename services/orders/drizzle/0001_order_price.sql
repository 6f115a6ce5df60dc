-- Orders record the price they were placed at. Existing orders take their ticket's price.
ALTER TABLE "orders" ADD COLUMN "price_cents" integer;--> statement-breakpoint
UPDATE "orders" SET "price_cents" = "tickets"."price_cents" FROM "tickets" WHERE "tickets"."id" = "orders"."ticket_id";--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "price_cents" SET NOT NULL;
