/**
 * The Kubernetes manifests, rendered from infra/k8s/base and overlays/{dev,prod} by kustomize
 * itself (./render.ts), validated offline against the Kubernetes API schemas (kubernetes-models)
 * and checked against the code: every service deployed and reachable, probes on routes its server
 * has, every variable its configuration requires provided, every pod hardened (non-root, no
 * privilege escalation, no capabilities, a read-only root), spread over nodes and covered by a
 * disruption budget, NATS a 3-node JetStream cluster, secrets in place or documented.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hardeningFromConfig, loadConfig, NodeEnv, resolveJwtKey, StandaloneConfig } from '@ticketing/common';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IIoK8sApiCoreV1Probe as IProbe } from 'kubernetes-models/v1/Probe';
import { ROUTES } from '../../apps/cluster/src/routes.ts';
import { parseDockerfile } from './dockerfile.ts';
import {
  NO_RENDERER,
  parseImage,
  parseRendered,
  renderer,
  renderKustomization,
  type Resource,
} from './render.ts';

if (!renderer) console.warn(`infra/test/manifests.test.ts: ${NO_RENDERER}`);
const rendering = renderer ? `${renderer.name} (kustomize ${renderer.version})` : 'nothing';
import {
  containerEnv,
  find,
  get,
  infraDir,
  knownServiceModules,
  knownValues,
  overlay,
  overlayNames,
  readRepoFile,
  schemaRequiredVariables,
  serviceConfigSchemas,
  serviceHttp,
  serviceNames,
  shutdownBoundSeconds,
  standaloneConfigVariables,
  type OverlayName,
  type ServiceHttp,
} from './support.ts';

type Model = new (data: unknown) => { validate(): void };

/** The kubernetes-models class of a kind: `kubernetes-models/<apiVersion>/<Kind>`. */
async function modelOf(apiVersion: string, kind: string): Promise<Model> {
  const module = (await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}/${kind}`)) as Record<
    string,
    unknown
  >;
  const model = module[kind];
  if (typeof model !== 'function') throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return model as Model;
}

function onlyContainer(deployment: IDeployment | IStatefulSet): IContainer {
  const containers = deployment.spec!.template.spec!.containers;
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

function containerPort(container: IContainer, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const found = container.ports?.find((candidate) => candidate.name === port);
  if (!found) throw new Error(`container ${container.name} has no port named ${port}`);
  return found.containerPort;
}

function httpPath(probe: IProbe | undefined): string | undefined {
  return probe?.httpGet?.path;
}

type Workload = (IDeployment | IStatefulSet) & Resource;
const workloadsOf = (resources: Resource[]) =>
  resources.filter((resource) => ['Deployment', 'StatefulSet'].includes(resource.kind)) as Workload[];
const podOf = (workload: Workload): IPodSpec => workload.spec!.template.spec!;

/** Each object, checked by the kubernetes-models class of its apiVersion and kind. */
async function expectValid(resources: Resource[]): Promise<void> {
  for (const resource of resources) {
    const Model = await modelOf(resource.apiVersion, resource.kind);
    expect(() => new Model(resource).validate(), `${resource.kind} ${resource.metadata.name}`).not.toThrow();
  }
}

/**
 * The uid each image runs as. Ours: the last USER of their Dockerfile (a number, so that the
 * kubelet can check runAsNonRoot). The others: postgres:*-alpine's postgres user is 70; the NATS
 * image has no user of its own and nats-server runs as any, so 1000 as our images.
 */
function imageUser(image: string): number {
  const { name } = parseImage(image);
  const ours = /^ticketing\/(.+)$/.exec(name);
  if (ours) {
    const final = parseDockerfile(readRepoFile(`infra/docker/${ours[1]}.Dockerfile`)).stages.at(-1)!;
    const user = final.instructions.findLast((instruction) => instruction.keyword === 'USER')!.args;
    return Number(user.split(':')[0]);
  }
  const others: Record<string, number> = { nats: 1000, postgres: 70 };
  const uid = others[name];
  if (uid === undefined) throw new Error(`the uid of image ${image} is not known here`);
  return uid;
}

const servers = new Map<string, ServiceHttp>();
/** The public routes of a service: those its module registers, less the docs every server has. */
const publicRoutes = (name: string) =>
  servers.get(name)!.routes.filter((route) => !route.url.startsWith('/api/docs'));
/** `/api/tickets` for `/api/tickets/:id`: the prefix the ingress routes by. */
const prefixOf = (url: string) => url.split('/').slice(0, 3).join('/');

beforeAll(async () => {
  for (const name of serviceNames) servers.set(name, await serviceHttp(name));
});
afterAll(async () => {
  for (const server of servers.values()) await server.close();
});

describe('the repository and these checks agree', () => {
  it('knows how to build the HTTP server of every service in services/', () => {
    expect(knownServiceModules).toEqual(serviceNames);
    expect(serviceNames).toEqual(
      expect.arrayContaining(['auth', 'tickets', 'orders', 'expiration', 'payments']),
    );
  });

  it('reads the required variables out of StandaloneConfig', () => {
    const variables = standaloneConfigVariables();
    expect(variables.filter((variable) => variable.required).map((variable) => variable.name)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'NATS_URL']),
    );
    expect(variables.map((variable) => variable.name)).toEqual(
      expect.arrayContaining(['PORT', 'JWT_KEY', 'NODE_ENV']),
    );
    expect(variables.find((variable) => variable.name === 'JWT_KEY')?.required).toBe(false);
  });

  it('the schema validation is live: it rejects a broken Deployment', async () => {
    const Deployment = await modelOf('apps/v1', 'Deployment');
    const broken = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas: 'two', selector: {}, template: { spec: { containers: [{ image: 'x' }] } } },
    };
    expect(() => new Deployment(broken).validate()).toThrow(/replicas|name/);
  });

  it.skipIf(!renderer)('the renderer is kustomize itself, and it refuses a broken kustomization', () => {
    expect(renderer!.version).toMatch(/^v[45]\./);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'infra-kustomize-'));
    try {
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
      expect(() => renderKustomization(dir)).toThrow(/missing\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!renderer)('the base', () => {
  const base = renderer ? renderKustomization(path.join(infraDir, 'k8s/base')) : [];

  it(`renders with ${rendering}, and every object validates against the Kubernetes schemas`, async () => {
    expect(base.length).toBeGreaterThan(20);
    await expectValid(base);
  });

  it('is in each overlay: the overlays add objects and patch them, and remove none', () => {
    const key = (resource: Resource) => `${resource.kind}/${resource.metadata.name}`;
    for (const name of overlayNames)
      expect(overlay(name).map(key)).toEqual(expect.arrayContaining(base.map(key)));
  });
});

describe.skipIf(!renderer).each(overlayNames)('overlay %s', (overlayName: OverlayName) => {
  const resources = overlay(overlayName);
  const replicas = overlayName === 'prod' ? 2 : 1;

  it(`renders with ${rendering}, and every object validates against the Kubernetes schemas`, async () => {
    expect(resources.length).toBeGreaterThan(20);
    await expectValid(resources);
  });

  it('runs every pod as non-root, without privilege escalation or capabilities, on a read-only root', () => {
    const workloads = workloadsOf(resources);
    expect(workloads.length).toBeGreaterThanOrEqual(serviceNames.length + 2);
    for (const workload of workloads) {
      const where = `${workload.kind} ${workload.metadata.name}`;
      const pod = podOf(workload);
      expect(pod.automountServiceAccountToken, where).toBe(false);
      const containers = [...(pod.initContainers ?? []), ...pod.containers];
      const uid = imageUser(containers.at(-1)!.image!);
      expect(pod.securityContext, where).toMatchObject({
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: expect.any(Number),
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(uid, where).toBeGreaterThan(0);
      // A volume of its own (a claim) is made writable by the pod's group.
      const claims = (workload as IStatefulSet).spec!.volumeClaimTemplates ?? [];
      if (claims.length > 0)
        expect(pod.securityContext!.fsGroup, where).toBe(pod.securityContext!.runAsGroup);
      for (const container of containers) {
        const at = `${where}, container ${container.name}`;
        expect(container.securityContext, at).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.securityContext!.privileged ?? false, at).toBe(false);
        expect(container.securityContext!.capabilities!.add ?? [], at).toEqual([]);
        expect(container.securityContext!.runAsUser ?? uid, at).toBe(uid);
        // What it writes is on a volume: an emptyDir or its claim (configuration is read-only).
        for (const mount of container.volumeMounts ?? []) {
          const volume = pod.volumes?.find((candidate) => candidate.name === mount.name);
          const claim = claims.find((candidate) => candidate.metadata?.name === mount.name);
          expect(volume !== undefined || claim !== undefined, `${at}: volume ${mount.name}`).toBe(true);
          if (volume?.configMap || volume?.secret) expect(mount.readOnly ?? true, at).toBe(true);
        }
      }
    }
  });

  it('spreads every service, the web client and NATS over nodes, without refusing to schedule', () => {
    for (const workload of workloadsOf(resources).filter(
      (candidate) => candidate.metadata.name !== 'postgres',
    )) {
      const where = `${workload.kind} ${workload.metadata.name}`;
      const byNode = (podOf(workload).topologySpreadConstraints ?? []).filter(
        (constraint) => constraint.topologyKey === 'kubernetes.io/hostname',
      );
      expect(byNode, where).toHaveLength(1);
      expect(byNode[0], where).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' });
      // It counts this workload's pods, and only them.
      expect(byNode[0]!.labelSelector?.matchLabels, where).toEqual(workload.spec!.selector.matchLabels);
    }
  });

  it('has a disruption budget for every service, the web client and NATS: one pod at a time', () => {
    const budgets = resources.filter(
      (resource) => resource.kind === 'PodDisruptionBudget',
    ) as unknown as Array<IPodDisruptionBudget & Resource>;
    for (const workload of workloadsOf(resources).filter(
      (candidate) => candidate.metadata.name !== 'postgres',
    )) {
      const where = `${workload.kind} ${workload.metadata.name}`;
      const labels = workload.spec!.template.metadata!.labels!;
      const covering = budgets.filter((budget) =>
        Object.entries(budget.spec!.selector!.matchLabels ?? {}).every(
          ([key, value]) => labels[key] === value,
        ),
      );
      expect(covering, where).toHaveLength(1);
      const budget = covering[0]!.spec!;
      expect(budget.minAvailable, where).toBeUndefined();
      expect(budget.maxUnavailable, where).toBe(1);
      // A drain never takes the last pod where there are two (prod), nor a JetStream quorum.
      const replicas = workload.spec!.replicas!;
      if (workload.kind === 'StatefulSet')
        expect(replicas - 1, where).toBeGreaterThanOrEqual(Math.floor(replicas / 2) + 1);
      else if (replicas > 1) expect(replicas - 1, where).toBeGreaterThanOrEqual(1);
    }
  });

  it('every Service selects the pods of exactly one workload, on ports those pods have', () => {
    const workloads = resources.filter((resource) =>
      ['Deployment', 'StatefulSet'].includes(resource.kind),
    ) as unknown as Array<(IDeployment | IStatefulSet) & Resource>;
    for (const workload of workloads) {
      const labels = workload.spec!.template.metadata?.labels ?? {};
      for (const [key, value] of Object.entries(workload.spec!.selector.matchLabels ?? {}))
        expect(labels[key], `${workload.metadata.name} selector`).toBe(value);
    }
    for (const service of resources.filter(
      (resource) => resource.kind === 'Service',
    ) as unknown as IService[]) {
      const selector = service.spec!.selector!;
      const selected = workloads.filter((workload) =>
        Object.entries(selector).every(
          ([key, value]) => workload.spec!.template.metadata?.labels?.[key] === value,
        ),
      );
      expect(selected, `Service ${service.metadata!.name}`).toHaveLength(1);
      const container = onlyContainer(selected[0]!);
      for (const port of service.spec!.ports!) containerPort(container, port.targetPort ?? port.port);
    }
  });

  describe.each(serviceNames)('service %s', (name) => {
    const deployment = get<IDeployment>(resources, 'Deployment', name);
    const service = get<IService>(resources, 'Service', name);
    const pod = deployment.spec!.template.spec!;
    const container = onlyContainer(deployment);
    const env = containerEnv(container, resources);

    it(`has a Deployment (${replicas} replica${replicas > 1 ? 's' : ''}) of ticketing/${name} and a Service`, () => {
      expect(deployment.spec!.replicas).toBe(replicas);
      const image = parseImage(container.image!);
      expect(image.name).toBe(`ticketing/${name}`);
      if (overlayName === 'prod') expect(image.tag ?? image.digest).toMatch(/^(?!latest$)./);
      expect(service.spec!.ports!.map((port) => containerPort(container, port.targetPort))).toEqual([3000]);
    });

    it('probes: startup and liveness on /healthz, readiness on /readyz, routes its server has', async () => {
      expect(httpPath(container.livenessProbe)).toBe('/healthz');
      expect(httpPath(container.startupProbe)).toBe('/healthz');
      expect(httpPath(container.readinessProbe)).toBe('/readyz');
      const server = servers.get(name)!;
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
        expect(server.has(httpPath(probe)!)).toBe(true);
        expect(containerPort(container, probe!.httpGet!.port)).toBe(3000);
      }
      // Liveness must not follow the dependencies (a database outage would restart every pod),
      // readiness must.
      expect(await server.status('/healthz', false)).toBe(200);
      expect(await server.status('/readyz', true)).toBe(200);
      expect(await server.status('/readyz', false)).toBe(503);
    });

    it('gives the process time to drain: preStop delay + shutdown bound < grace period', () => {
      const sleep = container.lifecycle?.preStop?.exec?.command;
      expect(sleep?.[0]).toBe('sleep');
      const total = Number(sleep![1]) + shutdownBoundSeconds();
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(total);
    });

    it('has resource requests and limits, runs as non-root with a read-only root', () => {
      for (const bound of ['requests', 'limits'] as const) {
        expect(container.resources?.[bound]?.cpu, bound).toBeDefined();
        expect(container.resources?.[bound]?.memory, bound).toBeDefined();
      }
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).not.toBe(0);
      expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
      // tsx writes its compile cache to the temporary directory.
      const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
      expect(pod.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
    });

    it('takes JWT_KEY from a Secret, DATABASE_URL from its own Secret, settings from ConfigMaps', () => {
      const ref = (variable: string) =>
        container.env?.find((entry) => entry.name === variable)?.valueFrom?.secretKeyRef;
      expect(ref('JWT_KEY')).toMatchObject({ key: 'JWT_KEY' });
      expect(ref('DATABASE_URL')).toMatchObject({ name: `${name}-db`, key: 'DATABASE_URL' });
      if (name === 'tickets')
        expect(ref('TICKET_CREDENTIAL_KEY')).toMatchObject({ key: 'TICKET_CREDENTIAL_KEY' });
      const configMaps = (container.envFrom ?? []).map((source) => source.configMapRef?.name);
      expect(configMaps).toContain('ticketing-config');
      for (const configMap of configMaps) expect(find(resources, 'ConfigMap', configMap!)).toBeDefined();
    });

    it('provides every variable its configuration requires, with values the code accepts', () => {
      const values = knownValues(env);
      const required = standaloneConfigVariables()
        .filter((variable) => variable.required)
        .map((variable) => variable.name);
      for (const schema of serviceConfigSchemas[name] ?? [])
        required.push(...schemaRequiredVariables(schema));
      // JWT_KEY is optional in the schema but required by resolveJwtKey when NODE_ENV=production.
      const nodeEnv = values.NODE_ENV ?? 'development';
      expect((NodeEnv.anyOf as Array<{ const: string }>).map((literal) => literal.const)).toContain(nodeEnv);
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'infra-jwt-'));
      try {
        expect(() => resolveJwtKey({ nodeEnv: 'production', dataDir })).toThrow(/JWT_KEY/);
        if (nodeEnv === 'production') required.push('JWT_KEY');
        for (const variable of required) {
          const source = env.get(variable);
          expect(source, `${name}: ${variable}`).toBeDefined();
          if (source!.kind === 'value') expect(source!.value, `${name}: ${variable}`).not.toBe('');
          if (source!.kind === 'external-secret')
            expect(source!.optional, `${name}: ${variable}`).toBe(false);
        }
        if (values.JWT_KEY !== undefined)
          expect(() => resolveJwtKey({ jwtKey: values.JWT_KEY, nodeEnv, dataDir })).not.toThrow();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      for (const schema of serviceConfigSchemas[name] ?? [])
        expect(() => loadConfig(schema, values)).not.toThrow();
      expect(values.PORT).toBe(String(containerPort(container, 'http')));
      expect(values.HOST ?? '0.0.0.0').toBe('0.0.0.0');
    });

    it('serves /metrics on the port its pod is scraped on, which no Service exposes', () => {
      const values = knownValues(env);
      expect(values.METRICS_PORT).toBeDefined();
      const metricsPort = Number(values.METRICS_PORT);
      expect(containerPort(container, 'metrics')).toBe(metricsPort);
      expect(deployment.spec!.template.metadata!.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(metricsPort),
        'prometheus.io/path': '/metrics',
      });
      for (const port of service.spec!.ports!)
        expect(containerPort(container, port.targetPort ?? port.port)).not.toBe(metricsPort);
      // In production, then, the public port serves neither the metrics nor the documentation.
      const hardening = hardeningFromConfig(
        loadConfig(StandaloneConfig, { DATABASE_URL: 'x', NATS_URL: 'y', ...values }),
      );
      expect(hardening).toMatchObject({ metrics: false, apiDocs: false, production: true });
    });

    it('reaches NATS through a Service of this overlay', () => {
      const url = new URL(knownValues(env).NATS_URL!);
      const nats = get<IService>(resources, 'Service', url.hostname);
      expect(nats.spec!.ports!.map((port) => port.port)).toContain(Number(url.port));
    });
  });

  it('routes each service prefix to its service, and / to the web client (ingress-nginx, ticketing.dev)', () => {
    const ingresses = resources.filter((resource) => resource.kind === 'Ingress') as unknown as IIngress[];
    expect(ingresses).toHaveLength(1);
    const ingress = ingresses[0]!;
    expect(ingress.apiVersion).toBe('networking.k8s.io/v1');
    expect(ingress.spec!.ingressClassName).toBe('nginx');
    const rules = ingress.spec!.rules!;
    expect(rules.map((rule) => rule.host)).toEqual(['ticketing.dev']);
    const paths = rules[0]!.http!.paths;
    for (const entry of paths) {
      expect(entry.pathType).toBe('Prefix');
      const backend = entry.backend.service!;
      const target = get<IService>(resources, 'Service', backend.name);
      expect(
        target.spec!.ports!.some(
          (port) => port.name === backend.port!.name || port.port === backend.port!.number,
        ),
      ).toBe(true);
    }
    const routed = Object.fromEntries(paths.map((entry) => [entry.path, entry.backend.service!.name]));

    const expected: Record<string, string> = { '/': 'web' };
    for (const name of serviceNames) {
      const prefixes = [...new Set(publicRoutes(name).map((route) => prefixOf(route.url)))];
      // One prefix per service; a service without public routes (expiration) gets no rule.
      expect(prefixes.length, `${name} routes ${JSON.stringify(publicRoutes(name))}`).toBeLessThanOrEqual(1);
      for (const prefix of prefixes) {
        expect(expected[prefix], `${prefix} claimed twice`).toBeUndefined();
        expected[prefix] = name;
      }
    }
    expect(routed).toEqual(expected);
    // The scale-out mode's entry (nginx or the Node gateway) routes the same prefixes.
    const api = Object.fromEntries(Object.entries(expected).filter(([prefix]) => prefix !== '/'));
    expect(Object.fromEntries(ROUTES)).toEqual(api);
    expect(Object.keys(expected)).toEqual(
      expect.arrayContaining(['/api/users', '/api/tickets', '/api/orders', '/api/payments', '/']),
    );
    expect(Object.values(routed)).not.toContain('expiration');
  });

  it('serves the web client: ticketing/web behind a Service, probed on the /healthz nginx answers', () => {
    const deployment = get<IDeployment>(resources, 'Deployment', 'web');
    const container = onlyContainer(deployment);
    expect(parseImage(container.image!).name).toBe('ticketing/web');
    expect(deployment.spec!.replicas).toBe(replicas);
    const nginx = readRepoFile('infra/docker/web/nginx.conf');
    expect(nginx).toMatch(/location = \/healthz \{[^}]*return 200/);
    const listen = Number(/listen (\d+);/.exec(nginx)![1]);
    expect(containerPort(container, 'http')).toBe(listen);
    expect(httpPath(container.readinessProbe)).toBe('/healthz');
    expect(httpPath(container.livenessProbe)).toBe('/healthz');
    expect(deployment.spec!.template.spec!.securityContext?.runAsNonRoot).toBe(true);
    // Its CSP lets Stripe.js in when it sees the publishable key, as payments does in production.
    const stripeKey = container.env?.find((entry) => entry.name === 'STRIPE_PUBLISHABLE_KEY');
    if (overlayName === 'prod')
      expect(stripeKey?.valueFrom?.secretKeyRef).toMatchObject({
        name: 'stripe',
        key: 'STRIPE_PUBLISHABLE_KEY',
      });
    else expect(stripeKey).toBeUndefined();
  });

  describe('NATS', () => {
    const statefulSet = get<IStatefulSet>(resources, 'StatefulSet', 'nats');
    const container = onlyContainer(statefulSet);
    const headless = get<IService>(resources, 'Service', statefulSet.spec!.serviceName!);
    const configMap = get<IConfigMap>(resources, 'ConfigMap', 'nats-config');
    const config = configMap.data!['nats.conf']!;

    it('is a 3-node StatefulSet with a persistent volume per node, governed by a headless Service', () => {
      expect(statefulSet.spec!.replicas).toBe(3);
      expect(statefulSet.spec!.podManagementPolicy).toBe('Parallel');
      expect(headless.spec!.clusterIP).toBe('None');
      expect(headless.spec!.publishNotReadyAddresses).toBe(true);
      const claims = statefulSet.spec!.volumeClaimTemplates ?? [];
      expect(claims).toHaveLength(1);
      expect(claims[0]!.spec!.resources!.requests!.storage).toBeDefined();
      const storeDir = /store_dir:\s*(\S+)/.exec(config)![1]!;
      const mount = container.volumeMounts!.find((candidate) => candidate.name === claims[0]!.metadata!.name);
      expect(storeDir.startsWith(mount!.mountPath)).toBe(true);
      expect(get<IPodDisruptionBudget>(resources, 'PodDisruptionBudget', 'nats').spec!.maxUnavailable).toBe(
        1,
      );
    });

    it('keeps the stream on every node: NATS_STREAM_REPLICAS is the number of nodes', () => {
      const settings = get<IConfigMap>(resources, 'ConfigMap', 'ticketing-config').data!;
      expect(Number(settings.NATS_STREAM_REPLICAS)).toBe(statefulSet.spec!.replicas);
    });

    it('has JetStream on, and routes to each of the three nodes through the headless Service', () => {
      expect(config).toMatch(/^jetstream\s*\{/m);
      const clusterPort = containerPort(container, 'cluster');
      const routes = [...config.matchAll(/nats:\/\/([\w.-]+):(\d+)/g)].map(
        (match) => `${match[1]}:${match[2]}`,
      );
      expect(routes).toEqual(
        Array.from({ length: statefulSet.spec!.replicas! }, (_, index) => index).map(
          (index) => `${statefulSet.metadata!.name}-${index}.${headless.metadata!.name}:${clusterPort}`,
        ),
      );
      expect(config).toMatch(/server_name:\s*\$SERVER_NAME/);
      expect(
        container.env!.find((variable) => variable.name === 'SERVER_NAME')?.valueFrom?.fieldRef?.fieldPath,
      ).toBe('metadata.name');
      const configMount = container.volumeMounts!.find((mount) =>
        statefulSet.spec!.template.spec!.volumes!.some(
          (volume) => volume.name === mount.name && volume.configMap?.name === 'nats-config',
        ),
      );
      expect(container.command).toEqual(['nats-server', '--config', `${configMount!.mountPath}/nats.conf`]);
      // The pid file the lame-duck preStop signals is the one the config writes.
      const pidFile = /pid_file:\s*(\S+)/.exec(config)![1];
      expect(container.lifecycle!.preStop!.exec!.command).toEqual(['nats-server', `-sl=ldm=${pidFile}`]);
    });

    const natsServer = spawnSync('nats-server', ['--version']).status === 0;
    it.skipIf(!natsServer)('nats.conf is accepted by nats-server -t (when nats-server is installed)', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'infra-nats-'));
      try {
        writeFileSync(path.join(dir, 'nats.conf'), config);
        const result = spawnSync('nats-server', ['-t', '-c', path.join(dir, 'nats.conf')], {
          env: { ...process.env, SERVER_NAME: 'nats-0' },
          encoding: 'utf8',
        });
        expect(result.status, result.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  if (overlayName === 'dev') {
    it('runs one PostgreSQL, with one database per service, reached with the password of its Secret', () => {
      const postgres = get<IStatefulSet>(resources, 'StatefulSet', 'postgres');
      const container = onlyContainer(postgres);
      const password = knownValues(containerEnv(container, resources)).POSTGRES_PASSWORD;
      expect(password).toBeTruthy();
      expect(postgres.spec!.volumeClaimTemplates).toHaveLength(1);
      const databases = serviceNames.map((name) => {
        const container = onlyContainer(get<IDeployment>(resources, 'Deployment', name));
        const url = new URL(knownValues(containerEnv(container, resources)).DATABASE_URL!);
        const server = get<IService>(resources, 'Service', url.hostname);
        expect(server.spec!.ports!.map((port) => port.port)).toContain(Number(url.port));
        expect(decodeURIComponent(url.password)).toBe(password);
        return url.pathname.slice(1);
      });
      expect(new Set(databases).size).toBe(serviceNames.length);
      // ensureDatabase (packages/common/src/db/database.ts) accepts only such names.
      for (const database of databases) expect(database).toMatch(/^[a-zA-Z0-9_-]+$/);
    });

    it('contains every Secret it refers to', () => {
      for (const name of [...serviceNames, 'web']) {
        const container = onlyContainer(get<IDeployment>(resources, 'Deployment', name));
        for (const source of containerEnv(container, resources).values())
          if (source.kind === 'external-secret')
            expect(source.optional, `${name}: ${source.secret}`).toBe(true);
      }
    });
  }

  if (overlayName === 'prod') {
    it('has no database or Secret of its own; every Secret it needs is in docs/deploy.md', () => {
      expect(find(resources, 'StatefulSet', 'postgres')).toBeUndefined();
      expect(resources.filter((resource) => resource.kind === 'Secret')).toEqual([]);
      const docs = readRepoFile('docs/deploy.md');
      for (const name of [...serviceNames, 'web']) {
        const container = onlyContainer(get<IDeployment>(resources, 'Deployment', name));
        for (const source of containerEnv(container, resources).values()) {
          if (source.kind !== 'external-secret') continue;
          const command = new RegExp(
            `create secret generic ${source.secret} [^\\n]*--from-literal=${source.key}=`,
          );
          expect(docs, `docs/deploy.md creates ${source.secret}/${source.key}`).toMatch(command);
        }
      }
      const ingress = get<IIngress>(resources, 'Ingress', 'ticketing');
      for (const tls of ingress.spec!.tls ?? [])
        expect(docs).toContain(`create secret tls ${tls.secretName}`);
      expect(ingress.spec!.tls?.[0]?.hosts).toEqual(ingress.spec!.rules!.map((rule) => rule.host));
    });

    it('requires the Stripe keys: payments never silently simulates in production', () => {
      const container = onlyContainer(get<IDeployment>(resources, 'Deployment', 'payments'));
      const env = containerEnv(container, resources);
      for (const variable of ['STRIPE_SECRET_KEY', 'STRIPE_PUBLISHABLE_KEY'])
        expect(env.get(variable)).toMatchObject({ kind: 'external-secret', optional: false });
    });
  }

  // kubectl's own kustomize (5.x in current kubectl: what `kubectl apply -k` uses) renders the same
  // as the kustomize on PATH, where both are installed.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl || renderer?.command !== 'kustomize')(
    'renders exactly as `kubectl kustomize` does (when both are installed)',
    () => {
      const output = execFileSync(
        'kubectl',
        ['kustomize', path.join(infraDir, 'k8s/overlays', overlayName)],
        {
          encoding: 'utf8',
        },
      );
      const theirs = parseRendered(output, `kubectl kustomize ${overlayName}`);
      const key = (resource: Resource) => `${resource.kind}/${resource.metadata.name}`;
      const sorted = (list: Resource[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
      expect(sorted(resources)).toEqual(sorted(theirs));
    },
  );
});
