-- Why a cancelled order was cancelled: by its buyer, or by its expiry. Orders cancelled before
-- this migration keep null: it was not recorded.
ALTER TABLE "orders" ADD COLUMN "cancelled_by" text;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_cancelled_by_check" CHECK ("orders"."cancelled_by" in ('buyer', 'expiry'));