import { defineListener } from '@ticketing/common';
import { scheduleTimer } from '../../data-access/timers-repository.ts';

/** A new order: remember to expire it when its window closes. */
export const orderCreatedListener = defineListener('order:created', async ({ tx, data }) => {
  await scheduleTimer(tx, data.id, new Date(data.expiresAt));
});
