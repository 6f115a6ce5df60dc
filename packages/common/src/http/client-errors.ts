/**
 * What an HTTP server answers to a request it could not parse at all (a malformed request line,
 * headers over Node's limit, a request too slow to arrive): the API's error shape, where Fastify's
 * default `clientErrorHandler` has a shape of its own. The connection is closed after it, as Node
 * and Fastify close it. Every service's server and the cluster's Node gateway use it.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply } from 'fastify';
import { RAW_ANSWER_HEADERS } from './hardening.ts';

/** The status and message for a request that could not be parsed, by the parser's error code. */
export function clientErrorAnswer(code: string | undefined): { status: number; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'Request headers are too large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'Request took too long to arrive' };
  return { status: 400, message: 'Malformed HTTP request' };
}

/**
 * Fastify's `frameworkErrors` option in the API's error shape: a URL it cannot decode
 * (`/api/tickets/%E0%A4%A`) or a path parameter over its length limit.
 */
export function apiFrameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  void reply.status(error.statusCode ?? 400).send({
    errors: [{ message: error.code === 'FST_ERR_BAD_URL' ? 'The URL is malformed' : error.message }],
  });
}

/** Fastify's `clientErrorHandler` option (Node's `clientError` event) in the API's error shape. */
export function apiClientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, message } = clientErrorAnswer(error.code);
  const body = JSON.stringify({ errors: [{ message }] });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `${RAW_ANSWER_HEADERS}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
