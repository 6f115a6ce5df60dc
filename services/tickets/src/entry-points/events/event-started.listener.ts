import { defineListener } from '@ticketing/common';
import { endListing } from '../../domain/tickets.ts';

/** A ticket's event starts: its listing ends (a new version for the replicas). */
export const eventStartedListener = defineListener('expiration:event-started', async ({ tx, data }) => {
  await endListing(tx, data);
});
