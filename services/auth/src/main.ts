import { runStandalone } from '@ticketing/common';
import { authService } from './service.ts';

await runStandalone(authService());
