/**
 * Failures to start, said in one line: what failed and what to do. A process that cannot start
 * prints that line on stderr and exits with code 1 (`runUntilStopped` in service.ts), not a stack
 * trace.
 */

/** A failure to start whose message already says what failed and what to do. */
export class StartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartError';
  }
}

/** The message of an error as one line (the first inner error of an AggregateError, say). */
export function oneLine(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0 && !error.message) {
    return oneLine(error.errors[0]);
  }
  if (error instanceof Error) {
    const first = error.message
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim();
    const code = (error as NodeJS.ErrnoException).code;
    if (!first) return code ?? error.name;
    return code && !first.includes(code) ? `${first} (${code})` : first;
  }
  return String(error).split('\n')[0]!;
}

/** The host of the URL in the setting `name`; a value that is no URL is a StartError naming it. */
export function hostOfSetting(name: string, value: string, example: string): string {
  try {
    return new URL(value).host;
  } catch {
    throw new StartError(`${name} is not a URL; set it as ${example}`);
  }
}
