import { runStandalone } from '@ticketing/common';
import { expirationService } from './service.ts';

await runStandalone(expirationService());
