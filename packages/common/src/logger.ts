/**
 * pino, JSON lines by default; `LOG_PRETTY=1` (or a terminal in development) for humans. Lines
 * written inside a span carry its `trace_id` and `span_id`.
 */
import { pino, type Logger } from 'pino';
import { traceLogFields } from './observability/tracing.ts';

export type { Logger };

export function createLogger(name: string, options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const pretty =
    options.pretty ??
    (process.env.LOG_PRETTY === '1' || (process.stdout.isTTY && process.env.NODE_ENV !== 'production'));
  return pino({
    name,
    level,
    mixin: traceLogFields,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}
