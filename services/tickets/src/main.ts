import { runStandalone } from '@ticketing/common';
import { ticketsService } from './service.ts';

await runStandalone(ticketsService());
