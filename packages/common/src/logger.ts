/**
 * pino. Lines for humans (pino-pretty) when stdout is a terminal, JSON lines otherwise, the form
 * log collectors read; `LOG_PRETTY=1` or `0` decides instead. Lines written inside a span carry
 * its `trace_id` and `span_id`.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import { traceLogFields } from './observability/tracing.ts';

export type { Logger };

/** Whether pino-pretty can be loaded: it is a devDependency, absent from production installs. */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether logs are written for humans: `LOG_PRETTY=1` yes, `LOG_PRETTY=0` no; unset, when stdout
 * is a terminal and pino-pretty is installed (a production image, which has no pino-pretty, logs
 * JSON even in `docker run -t`).
 */
export function prettyLogs(
  env: Record<string, string | undefined> = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
  installed: () => boolean = prettyInstalled,
): boolean {
  const setting = env.LOG_PRETTY;
  if (setting === '1') {
    if (!installed())
      throw new Error('LOG_PRETTY=1 needs pino-pretty, a devDependency: install without --omit=dev');
    return true;
  }
  if (setting === '0') return false;
  if (setting !== undefined && setting !== '')
    throw new Error(`LOG_PRETTY must be 1 (lines for humans) or 0 (JSON lines), not "${setting}"`);
  return isTTY && installed();
}

export function createLogger(name: string, options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? prettyLogs();
  return pino({
    name,
    level,
    mixin: traceLogFields,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            // A request's fields on its line (an error's stack still gets lines of its own).
            options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true },
          },
        }
      : {}),
  });
}
