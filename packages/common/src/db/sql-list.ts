/**
 * A contract's values (constants such as `ORDER_STATUSES`, never input) written as SQL string
 * literals: `'created', 'cancelled'`. Check constraints, partial indexes and the queries that match
 * them spell their statuses through these, so they follow the contract's arrays.
 */
import { sql, type SQL } from 'drizzle-orm';

/** `'a', 'b'`: for raw SQL text (`status in (${sqlLiterals(…)})`, `status = ${sqlLiterals([…])}`). */
export function sqlLiterals(values: readonly string[]): string {
  return values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
}

/** The same as a Drizzle fragment, spelled inline: ``sql`${column} in (${sqlList(…)})` ``. */
export const sqlList = (values: readonly string[]): SQL => sql.raw(sqlLiterals(values));
