/** Reads and writes of payments and of the orders replica; plain objects in and out. */
import { and, eq, lt, sql } from 'drizzle-orm';
import { PaymentStatus, type Executor } from '@ticketing/common';
import { orders, payments, type OrderRow, type PaymentRow } from './schema.ts';

export type Order = OrderRow;
export type Payment = PaymentRow;

export async function lockOrder(db: Executor, id: string): Promise<Order | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id)).for('update');
  return row;
}

export async function findOrder(db: Executor, id: string): Promise<Order | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

export async function insertOrder(db: Executor, order: Order): Promise<void> {
  await db.insert(orders).values(order).onConflictDoNothing();
}

/** Applies version `version` (with `status`) only on top of the version before it. */
export async function applyOrderVersion(
  db: Executor,
  id: string,
  version: number,
  status: Order['status'],
): Promise<boolean> {
  const rows = await db
    .update(orders)
    .set({ status, version })
    .where(and(eq(orders.id, id), eq(orders.version, version - 1)))
    .returning({ id: orders.id });
  return rows.length === 1;
}

export async function insertPayment(
  db: Executor,
  payment: Omit<Payment, 'createdAt' | 'updatedAt'>,
): Promise<Payment> {
  const [row] = await db.insert(payments).values(payment).returning();
  return row!;
}

export async function updatePayment(
  db: Executor,
  id: string,
  changes: { status: PaymentStatus; providerChargeId?: string | null; failureReason?: string | null },
): Promise<void> {
  await db
    .update(payments)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(payments.id, id));
}

export async function lockPayment(db: Executor, id: string): Promise<Payment | undefined> {
  const [row] = await db.select().from(payments).where(eq(payments.id, id)).for('update');
  return row;
}

export async function succeededPaymentOf(db: Executor, orderId: string): Promise<Payment | undefined> {
  const [row] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, orderId), eq(payments.status, PaymentStatus.Succeeded)));
  return row;
}

/** Attempts left pending for longer than `olderThanMs` (their process died, or the provider failed). */
export async function stalePendingPayments(
  db: Executor,
  olderThanMs: number,
  limit = 50,
): Promise<Payment[]> {
  return db
    .select()
    .from(payments)
    .where(
      and(
        eq(payments.status, PaymentStatus.Pending),
        lt(payments.createdAt, sql`now() - ${olderThanMs} * interval '1 millisecond'`),
      ),
    )
    .limit(limit);
}
