-- Why a cancelled order was cancelled: by its buyer, or by its expiry. Orders cancelled before
-- this migration keep null: it was not recorded. NOT VALID: every existing row is null, so the
-- check need not scan the table under its lock while running replicas wait to insert.
ALTER TABLE "orders" ADD COLUMN "cancelled_by" text;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_cancelled_by_check" CHECK ("orders"."cancelled_by" in ('buyer', 'expiry')) NOT VALID;