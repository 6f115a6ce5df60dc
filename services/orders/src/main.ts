import { runStandalone } from '@ticketing/common';
import { ordersService } from './service.ts';

await runStandalone(ordersService());
