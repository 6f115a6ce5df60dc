/**
 * What the infra tests share: where things are, the services the repository has, the overlays
 * rendered, the environment a container gets, the variables each service's code requires, and
 * the HTTP routes each service really registers.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as common from '@ticketing/common';
import {
  buildHttpServer,
  registerService,
  type ServiceDatabase,
  type ServiceModule,
} from '@ticketing/common';
import { silentLogger } from '@ticketing/common/testing';
import { authService } from '@ticketing/auth';
import { ticketsService } from '@ticketing/tickets';
import { OrdersConfig, ordersService } from '@ticketing/orders';
import { expirationService } from '@ticketing/expiration';
import { paymentsService, TestPaymentProvider } from '@ticketing/payments';
import { PaymentsConfig } from '../../services/payments/src/providers/index.ts';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { isObject, renderer, renderKustomization, type Json, type Resource } from './render.ts';

export const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const infraDir = path.join(repoRoot, 'infra');
export const repoPath = (...parts: string[]) => path.join(repoRoot, ...parts);
export const readRepoFile = (...parts: string[]) => readFileSync(repoPath(...parts), 'utf8');

/** The nginx binary (the web image's server): `NGINX_BINARY`, else the usual install paths; undefined if none. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const paths = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'];
  return (env.NGINX_BINARY ? [env.NGINX_BINARY] : paths).find((file) => existsSync(file));
}

/** Every folder of services/ with a package.json: each must be deployable. */
export const serviceNames: string[] = readdirSync(repoPath('services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(repoPath('services', entry.name, 'package.json')))
  .map((entry) => entry.name)
  .sort();

/** The deployables: the services and the web client. */
export const imageNames: string[] = [...serviceNames, 'web'].map((name) => `ticketing/${name}`);

export const overlayNames = ['dev', 'prod'] as const;
export type OverlayName = (typeof overlayNames)[number];

const rendered = new Map<OverlayName, Resource[]>();
/** The overlay as rendered; nothing when this machine has no renderer (the suites using it skip). */
export function overlay(name: OverlayName): Resource[] {
  if (!renderer) return [];
  if (!rendered.has(name)) rendered.set(name, renderKustomization(path.join(infraDir, 'k8s/overlays', name)));
  return structuredClone(rendered.get(name)!);
}

export function find<T = Resource>(resources: Resource[], kind: string, name: string): T | undefined {
  return resources.find((resource) => resource.kind === kind && resource.metadata.name === name) as
    T | undefined;
}

export function get<T = Resource>(resources: Resource[], kind: string, name: string): T {
  const resource = find<T>(resources, kind, name);
  if (resource === undefined) throw new Error(`no ${kind} ${name}`);
  return resource;
}

// ---------------------------------------------------------------------------------------------
// Environment of a container

export type EnvSource =
  | { kind: 'value'; value: string }
  /** A Secret the overlay does not contain: created by the operator (prod). */
  | { kind: 'external-secret'; secret: string; key: string; optional: boolean }
  | { kind: 'field'; fieldPath: string };

/** The entries of a `data` or `stringData` map, whose values Kubernetes requires to be strings. */
function stringEntries(map: Json | undefined, where: string): Array<[string, string]> {
  if (!isObject(map)) return [];
  return Object.entries(map).map(([key, value]) => {
    if (typeof value !== 'string') throw new Error(`${where}: ${key} is not a string`);
    return [key, value];
  });
}

function secretData(secret: Resource): Record<string, string> {
  const where = `Secret ${secret.metadata.name}`;
  return Object.fromEntries([
    ...stringEntries(secret.data, where).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
    ...stringEntries(secret.stringData, where),
  ]) as Record<string, string>;
}

function configMapData(configMap: Resource): Record<string, string> {
  return Object.fromEntries(stringEntries(configMap.data, `ConfigMap ${configMap.metadata.name}`));
}

/**
 * The variables a container starts with, as Kubernetes builds them: `envFrom` first, then `env`
 * (which wins). A reference to a ConfigMap, or a key, that does not exist is an error unless marked
 * optional, as it is for the kubelet; a Secret missing from the overlay is an external one.
 */
export function containerEnv(container: IContainer, resources: Resource[]): Map<string, EnvSource> {
  const env = new Map<string, EnvSource>();
  for (const source of container.envFrom ?? []) {
    if (source.secretRef) throw new Error('envFrom secretRef: its keys cannot be checked offline; use env');
    const ref = source.configMapRef;
    if (!ref?.name) throw new Error('envFrom without configMapRef');
    const configMap = find(resources, 'ConfigMap', ref.name);
    if (!configMap) {
      if (ref.optional) continue;
      throw new Error(`envFrom: no ConfigMap ${ref.name}`);
    }
    for (const [key, value] of Object.entries(configMapData(configMap)))
      env.set(key, { kind: 'value', value });
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env.set(variable.name, { kind: 'value', value: variable.value });
      continue;
    }
    const from = variable.valueFrom;
    if (from?.configMapKeyRef) {
      const { name, key, optional } = from.configMapKeyRef;
      const configMap = name === undefined ? undefined : find(resources, 'ConfigMap', name);
      const value = configMap ? configMapData(configMap)[key] : undefined;
      if (value !== undefined) env.set(variable.name, { kind: 'value', value });
      else if (!optional) throw new Error(`${variable.name}: no ConfigMap key ${name}/${key}`);
    } else if (from?.secretKeyRef) {
      const { name, key, optional } = from.secretKeyRef;
      if (name === undefined) throw new Error(`${variable.name}: secretKeyRef without name`);
      const secret = find(resources, 'Secret', name);
      if (!secret) {
        env.set(variable.name, { kind: 'external-secret', secret: name, key, optional: optional ?? false });
        continue;
      }
      const value = secretData(secret)[key];
      if (value !== undefined) env.set(variable.name, { kind: 'value', value });
      else if (!optional) throw new Error(`${variable.name}: no key ${key} in Secret ${name}`);
    } else if (from?.fieldRef) {
      env.set(variable.name, { kind: 'field', fieldPath: from.fieldRef.fieldPath });
    } else {
      throw new Error(`${variable.name}: a source this check does not know`);
    }
  }
  return env;
}

/** The values of the variables whose value the manifests fix. */
export function knownValues(env: Map<string, EnvSource>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, source] of env) if (source.kind === 'value') values[name] = source.value;
  return values;
}

// ---------------------------------------------------------------------------------------------
// What each service's configuration requires, read from the code

interface ConfigVariable {
  name: string;
  /** No default and not optional: the process refuses to start without it. */
  required: boolean;
}

/**
 * The variables of `StandaloneConfig` (packages/common/src/service.ts), the schema every service
 * is started with. It is not exported, so it is read from the source: a `Type.Object({...})`
 * whose properties are `Type.Optional(...)` (optional), a `Type.X(..., { default })` (defaulted),
 * another `Type.X(...)` (required), an exported schema of @ticketing/common (looked up), or the
 * properties of an exported object schema of it spread in (`...HttpLimitsConfig.properties`).
 */
export function standaloneConfigVariables(): ConfigVariable[] {
  const file = repoPath('packages/common/src/service.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  let literal: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      node.name.getText(source) === 'StandaloneConfig' &&
      node.initializer !== undefined &&
      ts.isCallExpression(node.initializer) &&
      node.initializer.expression.getText(source) === 'Type.Object'
    ) {
      const [argument] = node.initializer.arguments;
      if (argument && ts.isObjectLiteralExpression(argument)) literal = argument;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (!literal) throw new Error(`no "const StandaloneConfig = Type.Object({...})" in ${file}`);

  const hasDefault = (call: ts.CallExpression) =>
    call.arguments.some(
      (argument) =>
        ts.isObjectLiteralExpression(argument) &&
        argument.properties.some((property) => property.name?.getText(source) === 'default'),
    );
  return literal.properties.flatMap((property): ConfigVariable[] => {
    // `...Schema.properties`: the variables of an exported object schema of @ticketing/common.
    if (ts.isSpreadAssignment(property) && ts.isPropertyAccessExpression(property.expression)) {
      const spread = property.expression;
      const schema = (common as Record<string, unknown>)[spread.expression.getText(source)] as
        { properties?: Record<string, object>; required?: string[] } | undefined;
      if (spread.name.text !== 'properties' || !isObject(schema?.properties))
        throw new Error(`StandaloneConfig: cannot read ${property.getText(source)}`);
      return Object.entries(schema.properties).map(([name, variable]) => ({
        name,
        required: (schema.required ?? []).includes(name) && !('default' in variable),
      }));
    }
    // `...HardeningSettings`: an exported object of settings, each required unless optional or
    // defaulted.
    if (ts.isSpreadAssignment(property) && ts.isIdentifier(property.expression)) {
      const settings: unknown = (common as Record<string, unknown>)[property.expression.text];
      if (!isObject(settings))
        throw new Error(
          `StandaloneConfig: ${property.expression.text} is not an exported object of settings`,
        );
      return Object.entries(settings).map(([name, schema]) => ({
        name,
        required: !('default' in (schema as object)) && !('~optional' in (schema as object)),
      }));
    }
    if (!ts.isPropertyAssignment(property))
      throw new Error(`StandaloneConfig: cannot read ${property.getText(source)}`);
    const name = property.name.getText(source);
    const value = property.initializer;
    if (ts.isCallExpression(value)) {
      const callee = value.expression.getText(source);
      if (!callee.startsWith('Type.')) throw new Error(`StandaloneConfig.${name}: cannot read ${callee}`);
      return [{ name, required: callee !== 'Type.Optional' && !hasDefault(value) }];
    }
    if (ts.isIdentifier(value)) {
      const schema: unknown = (common as Record<string, unknown>)[value.text];
      if (!isObject(schema))
        throw new Error(`StandaloneConfig.${name}: ${value.text} is not an exported schema`);
      return [{ name, required: !('default' in (schema as object)) }];
    }
    throw new Error(`StandaloneConfig.${name}: cannot read ${value.getText(source)}`);
  });
}

/** A service's own configuration schemas (exported), beside StandaloneConfig. */
export const serviceConfigSchemas: Record<string, Array<typeof OrdersConfig | typeof PaymentsConfig>> = {
  orders: [OrdersConfig],
  payments: [PaymentsConfig],
};

/** The variables an exported TypeBox object schema requires: in `required` and without default. */
export function schemaRequiredVariables(schema: typeof OrdersConfig | typeof PaymentsConfig): string[] {
  const properties = schema.properties as Record<string, object>;
  return (schema.required ?? []).filter((name) => !('default' in (properties[name] ?? {})));
}

// ---------------------------------------------------------------------------------------------
// The HTTP routes each service registers

const serviceModules: Record<string, () => ServiceModule> = {
  auth: () => authService(),
  tickets: () => ticketsService({ cacheTtlMs: 0 }), // its database here is a stand-in
  orders: () => ordersService({ expirationSeconds: 900 }),
  expiration: () => expirationService(),
  payments: () => paymentsService({ provider: new TestPaymentProvider(), currency: 'usd' }),
};
export const knownServiceModules = Object.keys(serviceModules).sort();

export interface ServiceHttp {
  /** Every route the service's module registers (not the ones every server has). */
  routes: Array<{ method: string; url: string }>;
  /** Whether the server answers these (GET). */
  has(url: string): boolean;
  /** Status of a GET on the server with its readiness checks passing or failing. */
  status(url: string, ready: boolean): Promise<number>;
  close(): Promise<void>;
}

/**
 * Builds the service's real HTTP server (packages/common's buildHttpServer, as runStandalone does)
 * with its real routes, over a database stand-in that no route touches while registering.
 */
export async function serviceHttp(name: string): Promise<ServiceHttp> {
  const factory = serviceModules[name];
  if (!factory) throw new Error(`no module known for service ${name}`);
  let ready = true;
  const app = await buildHttpServer({
    logger: silentLogger,
    jwtKey: 'infra-test-key-infra-test-key-0123456789',
    secureCookies: true,
    title: name,
    readiness: { dependencies: async () => ready },
  });
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method: String(method), url: route.url ?? route.path });
  });
  const database = { db: {} } as unknown as ServiceDatabase;
  await registerService(app, factory(), { database, logger: silentLogger });
  await app.ready();
  return {
    routes: routes.filter((route) => route.method !== 'HEAD'),
    has: (url) => app.hasRoute({ method: 'GET', url }),
    async status(url, readiness) {
      ready = readiness;
      const response = await app.inject({ method: 'GET', url });
      return response.statusCode;
    },
    close: () => app.close(),
  };
}

/**
 * The bound on a service's shutdown, in seconds: the delay of the forced exit that `onShutdown`
 * (packages/common/src/service.ts) arms with setTimeout, a number or a constant of that file.
 */
export function shutdownBoundSeconds(): number {
  const file = repoPath('packages/common/src/service.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const constants = new Map<string, ts.Expression>();
  let delay: ts.Expression | undefined;
  const visit = (node: ts.Node, inside: boolean): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer)
      constants.set(node.name.text, node.initializer);
    const isOnShutdown = ts.isFunctionDeclaration(node) && node.name?.text === 'onShutdown';
    if (
      (inside || isOnShutdown) &&
      ts.isCallExpression(node) &&
      node.expression.getText(source) === 'setTimeout' &&
      node.arguments[1] !== undefined
    )
      delay ??= node.arguments[1];
    ts.forEachChild(node, (child) => visit(child, inside || isOnShutdown));
  };
  visit(source, false);
  const resolved = delay && ts.isIdentifier(delay) ? constants.get(delay.text) : delay;
  if (!resolved || !ts.isNumericLiteral(resolved))
    throw new Error(`cannot read the forced-exit delay of onShutdown in ${file}`);
  return Number(resolved.text.replaceAll('_', '')) / 1000;
}
