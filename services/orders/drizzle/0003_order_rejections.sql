-- A cancelled order may also have been rejected: the tickets service refused to hold its ticket
-- at the order's price. `cancel_reason` says why, in words for the buyer. NOT VALID, as before:
-- every existing row passes, and the check need not scan the table under its lock.
ALTER TABLE "orders" DROP CONSTRAINT "orders_cancelled_by_check";--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "cancel_reason" text;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_cancelled_by_check" CHECK ("orders"."cancelled_by" in ('buyer', 'expiry', 'rejected')) NOT VALID;
