/**
 * What tests of any service use (`@ticketing/common/testing`): the helpers (a fresh database per
 * test file, a quiet logger, polling, raw HTTP), a service's harness, and the processes alive.
 */
export * from './helpers.ts';
export * from './service-harness.ts';
export * from './processes.ts';
