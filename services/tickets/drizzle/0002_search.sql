-- Search: text folded to lower case without accents, so that "cafe" finds "Café" and "CAFÉ".
-- Immutable (unaccent's dictionary is fixed), so that an index and a generated column may use
-- them; every name qualified, so that they work whatever the search_path (pg_dump sets none).
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;--> statement-breakpoint
CREATE FUNCTION public.tickets_fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;--> statement-breakpoint
CREATE FUNCTION public.tickets_search_document(title text, venue text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT pg_catalog.to_tsvector('pg_catalog.simple'::regconfig,
          public.tickets_fold(title || ' ' || coalesce(venue, ''))) $$;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "venue" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "city" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "starts_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "search" "tsvector" GENERATED ALWAYS AS (tickets_search_document(title, venue)) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "tickets_for_sale_by_price_idx" ON "tickets" USING btree ("price_cents","id") WHERE "tickets"."listed" and "tickets"."order_id" is null;--> statement-breakpoint
CREATE INDEX "tickets_for_sale_by_start_idx" ON "tickets" USING btree (coalesce("starts_at", 'infinity'::timestamptz),"id") WHERE "tickets"."listed" and "tickets"."order_id" is null;--> statement-breakpoint
CREATE INDEX "tickets_for_sale_search_idx" ON "tickets" USING gin ("search") WHERE "tickets"."listed" and "tickets"."order_id" is null;--> statement-breakpoint
CREATE INDEX "tickets_for_sale_by_city_idx" ON "tickets" USING btree (tickets_fold("city"),"created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "tickets"."listed" and "tickets"."order_id" is null;