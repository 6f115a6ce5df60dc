import { runStandalone } from '@ticketing/common';
import { paymentsService } from './service.ts';

await runStandalone(paymentsService());
