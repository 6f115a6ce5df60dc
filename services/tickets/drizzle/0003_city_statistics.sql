-- Statistics on the folded city, which the search's city filter compares: ANALYZE keeps none for
-- an expression of a partial index, and without them the planner guesses the same number of rows
-- for every city (expression statistics: PostgreSQL 14 and later).
CREATE STATISTICS IF NOT EXISTS "tickets_city_folded_stats" ON (tickets_fold("city")) FROM "tickets";--> statement-breakpoint
ANALYZE "tickets";
