import { defineListener } from '@ticketing/common';
import { cancelTimer } from '../../data-access/timers-repository.ts';

/**
 * An order was cancelled or paid before its window closed: its timer has nothing left to do.
 * (Firing it anyway would be harmless, since orders ignores the expiry of a settled order; this
 * only saves the event.)
 */
export const orderCancelledListener = defineListener('order:cancelled', async ({ tx, data }) => {
  await cancelTimer(tx, data.id);
});

export const orderCompletedListener = defineListener('order:completed', async ({ tx, data }) => {
  await cancelTimer(tx, data.id);
});
