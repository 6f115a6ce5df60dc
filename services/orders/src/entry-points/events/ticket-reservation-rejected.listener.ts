import { defineListener } from '@ticketing/common';
import { rejectOrder } from '../../domain/orders.ts';

/** The tickets service refused to hold the ticket at the order's price: cancel the order as rejected. */
export const ticketReservationRejectedListener = defineListener(
  'ticket:reservation-rejected',
  async ({ tx, data }) => {
    await rejectOrder(tx, data);
  },
);
