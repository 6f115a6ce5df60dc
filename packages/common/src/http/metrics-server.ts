/**
 * `GET /metrics` on a port of its own (`METRICS_PORT`), for the operators' scraper: the main port,
 * the one a load balancer or an ingress exposes, then serves no metrics (the Node version, every
 * route's traffic). Anything else on this port is a 404.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { apiClientErrorHandler, apiFrameworkErrors } from './client-errors.ts';
import { DEVELOPMENT_HARDENING, installSecurityHeaders, timeoutOptions } from './hardening.ts';
import { StartError } from '../start.ts';
import { serveMetrics } from '../observability/http.ts';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  port: number;
  host: string;
  logger: FastifyBaseLogger;
  production: boolean;
}): Promise<MetricsServer> {
  const hardening = { ...DEVELOPMENT_HARDENING, production: options.production };
  const app = Fastify({
    ...timeoutOptions(hardening),
    loggerInstance: options.logger.child({ component: 'metrics' }),
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: apiClientErrorHandler,
    frameworkErrors: apiFrameworkErrors,
  });
  installSecurityHeaders(app, hardening);
  serveMetrics(app);
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ errors: [{ message: 'Not found' }] }));
  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new StartError(
        `port ${options.port} is in use by another program; set METRICS_PORT to a free port`,
      );
    if (code === 'EACCES')
      throw new StartError(
        `not allowed to listen on port ${options.port} (below 1024 needs root); set METRICS_PORT to 1024 or above`,
      );
    throw error;
  }
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}
