/**
 * One error family for every service. Routes throw these; the shared error handler renders them
 * as `{ errors: [{ message, field? }] }` with the original course app's status codes. Anything
 * else is a bug and becomes a logged 500 with a generic message.
 */
export interface ErrorItem {
  message: string;
  field?: string;
}

/**
 * An answer to the client, not a fault: it carries no stack trace. (Capturing one cost the orders
 * replica about 1% of its CPU in a rush, where four buyers in five are refused.) The limit is
 * lowered while the arguments of `super` are evaluated, so that `Error` itself captures nothing.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly items: ErrorItem[] = [{ message }],
  ) {
    const limit = Error.stackTraceLimit;
    super(((Error.stackTraceLimit = 0), message));
    Error.stackTraceLimit = limit;
    this.name = new.target.name;
  }
}

/** 400: the request breaks a rule (validation, or a business rule such as a reserved ticket). */
export class BadRequestError extends HttpError {
  constructor(message: string, field?: string) {
    super(400, message, [field === undefined ? { message } : { message, field }]);
  }
}

export class ValidationError extends HttpError {
  constructor(items: ErrorItem[]) {
    super(400, items.map((i) => i.message).join('; '), items);
  }
}

/** 401: not signed in, or signed in as somebody who may not touch this resource. */
export class NotAuthorizedError extends HttpError {
  constructor(message = 'Not authorized') {
    super(401, message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message = 'Not found') {
    super(404, message);
  }
}

/** Postgres error code for a unique violation; used to turn constraint races into 400s. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string; cause?: unknown } | null;
  if (e?.code === UNIQUE_VIOLATION) return constraint === undefined || e.constraint === constraint;
  // Drizzle wraps driver errors; the original sits in `cause`.
  return e?.cause !== undefined && isUniqueViolation(e.cause, constraint);
}
