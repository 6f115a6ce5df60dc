/**
 * The images and the tools that build and run them, checked without a Docker engine: each
 * Dockerfile passes a linter (dockerfile-utils), what each is made of, that it runs what the
 * package runs, that image names agree between Dockerfiles, Kubernetes manifests, skaffold.yaml
 * and docker-compose.yml, and that the compose file is one `docker compose config` would accept
 * and that starts the services configured.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validate as lintDockerfile, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { loadConfig, resolveJwtKey } from '@ticketing/common';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { copies, envOf, execForm, parseDockerfile, type Dockerfile, type Stage } from './dockerfile.ts';
import { isObject, parseImage, renderer, type Json, type JsonObject } from './render.ts';
import {
  get,
  imageNames,
  overlay,
  readRepoFile,
  repoPath,
  repoRoot,
  schemaRequiredVariables,
  serviceConfigSchemas,
  serviceNames,
  standaloneConfigVariables,
} from './support.ts';

const dockerfilePath = (name: string) => `infra/docker/${name}.Dockerfile`;
const dockerfile = (name: string): Dockerfile => parseDockerfile(readRepoFile(dockerfilePath(name)));
const finalStage = (file: Dockerfile): Stage => file.stages.at(-1)!;
const all = (stage: Stage, keyword: string) =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword);
const last = (stage: Stage, keyword: string) => all(stage, keyword).at(-1);

// ---------------------------------------------------------------------------------------------
// Workspaces

interface Workspace {
  name: string;
  dir: string;
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
}

const workspaces: Workspace[] = ['packages', 'services', 'apps'].flatMap((parent) =>
  readdirSync(repoPath(parent))
    .filter((dir) => existsSync(repoPath(parent, dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readRepoFile(parent, dir, 'package.json')) as {
        name: string;
        dependencies?: Record<string, string>;
        scripts?: Record<string, string>;
      };
      return {
        name: manifest.name,
        dir: `${parent}/${dir}`,
        dependencies: manifest.dependencies ?? {},
        scripts: manifest.scripts ?? {},
      };
    }),
);
const workspace = (name: string) => workspaces.find((candidate) => candidate.name === name)!;

/** The workspace and the workspaces it depends on, transitively. */
function workspaceClosure(name: string): Workspace[] {
  const seen = new Map<string, Workspace>();
  const visit = (current: string) => {
    if (seen.has(current)) return;
    const found = workspace(current);
    seen.set(current, found);
    for (const dependency of Object.keys(found.dependencies))
      if (workspaces.some((candidate) => candidate.name === dependency)) visit(dependency);
  };
  visit(name);
  return [...seen.values()];
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

const ignorePatterns = readRepoFile('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** Whether the build context leaves `file` out (the patterns used here: `*`, `**`, no `!`). */
function ignored(file: string): boolean {
  return ignorePatterns.some((pattern) => {
    if (pattern.startsWith('!'))
      throw new Error('negated .dockerignore patterns are not handled by this check');
    const regex = pattern
      .split('/')
      .map((part) =>
        part === '**' ? '(?:.*/)?' : `${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}/`,
      )
      .join('')
      .replace(/\/$/, '');
    return new RegExp(`^${regex}(?:/.*)?$`).test(file);
  });
}

describe('.dockerignore', () => {
  it('keeps dependencies, local data and git out of the build context', () => {
    for (const file of [
      'node_modules/x',
      'packages/common/node_modules/x',
      'apps/web/dist/index.html',
      '.data/pg',
      '.git/HEAD',
    ])
      expect(ignored(file), file).toBe(true);
    for (const file of [
      'package.json',
      'services/auth/src/main.ts',
      'apps/web/src/main.tsx',
      'infra/docker/web/nginx.conf',
    ])
      expect(ignored(file), file).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Dockerfiles

describe('Dockerfiles', () => {
  it('exist for every service and the web client, and no others', () => {
    const files = readdirSync(repoPath('infra/docker')).filter((file) => file.endsWith('.Dockerfile'));
    expect(files.sort()).toEqual([...serviceNames, 'web'].map((name) => `${name}.Dockerfile`).sort());
  });

  // dockerfile-utils: the validator of the Dockerfile language server (VS Code's Docker support);
  // every check it has, its optional ones made errors.
  const strict: Required<ValidatorSettings> = {
    deprecatedMaintainer: ValidationSeverity.ERROR,
    directiveCasing: ValidationSeverity.ERROR,
    emptyContinuationLine: ValidationSeverity.ERROR,
    instructionCasing: ValidationSeverity.ERROR,
    instructionCmdMultiple: ValidationSeverity.ERROR,
    instructionEntrypointMultiple: ValidationSeverity.ERROR,
    instructionHealthcheckMultiple: ValidationSeverity.ERROR,
    instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
    instructionWorkdirRelative: ValidationSeverity.ERROR,
  };
  const lint = (text: string) =>
    lintDockerfile(text, strict).map(
      (problem) =>
        `${problem.range.start.line + 1}: ${typeof problem.message === 'string' ? problem.message : problem.message.value} (${String(problem.code)})`,
    );

  it.each([...serviceNames, 'web'])('%s passes the Dockerfile linter (dockerfile-utils)', (name) => {
    expect(lint(readRepoFile(dockerfilePath(name)))).toEqual([]);
  });

  it('the linter is live: it reports a broken Dockerfile', () => {
    const broken = [
      'FROM node:20-bookworm-slim',
      'workdir app',
      'COPY package.json',
      "CMD ['node', 'a.js']",
      'CMD ["node", "b.js"]',
      'EXPOSE port',
      'RUNN true',
    ].join('\n');
    const problems = lint(broken).join('\n');
    for (const expected of [
      /^2: .*uppercase/m,
      /^2: WORKDIR paths should be absolute/m,
      /^3: .*COPY requires at least two arguments/m,
      /^4: .*single quotes/m,
      /^4: There can only be one CMD/m,
      /^6: .*port/im,
      /^7: Unknown instruction: RUNN/m,
    ])
      expect(problems).toMatch(expected);
  });

  it('of the services are one file with the name changed', () => {
    const template = (name: string) => readRepoFile(dockerfilePath(name)).replaceAll(name, '<service>');
    for (const name of serviceNames) expect(template(name), name).toBe(template(serviceNames[0]!));
  });

  it.each([...serviceNames, 'web'])(
    '%s: multi-stage, a non-root USER last, a HEALTHCHECK on /healthz',
    (name) => {
      const file = dockerfile(name);
      expect(file.stages.length).toBeGreaterThanOrEqual(2);
      const final = finalStage(file);
      const user = last(final, 'USER')?.args;
      expect(user).toBeDefined();
      expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);
      // Set after the last file is copied in: the files stay root's, the process cannot change them.
      const index = (keywords: string[]) =>
        final.instructions.findLastIndex((i) => keywords.includes(i.keyword));
      expect(index(['USER'])).toBeGreaterThan(index(['COPY', 'ADD', 'RUN']));
      const healthcheck = last(final, 'HEALTHCHECK')?.args;
      expect(healthcheck).toMatch(/CMD \[.*\/healthz/);
      // Every COPY from the context names something that exists and that .dockerignore keeps.
      for (const stage of file.stages)
        for (const copy of copies(stage).filter((entry) => entry.from === undefined))
          for (const source of copy.sources) {
            expect(existsSync(repoPath(source)), `${name}: COPY ${source}`).toBe(true);
            expect(ignored(source), `${name}: COPY ${source} is ignored`).toBe(false);
          }
      // The lockfile is written by npm 11, which every stage that installs pins.
      for (const stage of file.stages)
        if (all(stage, 'RUN').some((run) => /\bnpm ci\b/.test(run.args)))
          expect(all(stage, 'ARG').map((arg) => arg.args)).toContainEqual(
            expect.stringMatching(/^NPM_VERSION=11\./),
          );
    },
  );

  describe.each(serviceNames)('%s', (name) => {
    const file = dockerfile(name);
    const [deps, runtime] = [file.stages[0]!, finalStage(file)];
    const closure = workspaceClosure(`@ticketing/${name}`);

    it('runs the service as its package does, from its folder, as NODE_ENV=production on port 3000', () => {
      const cmd = execForm(last(runtime, 'CMD')!.args)!;
      expect(cmd.join(' ')).toBe(workspace(`@ticketing/${name}`).scripts.start);
      expect(last(runtime, 'WORKDIR')!.args).toBe(`/app/services/${name}`);
      expect(existsSync(repoPath('services', name, cmd.at(-1)!))).toBe(true);
      const env = Object.assign(
        {},
        ...all(runtime, 'ENV').map((instruction) => envOf(instruction.args)),
      ) as Record<string, string>;
      expect(env.NODE_ENV).toBe('production');
      expect(env.PORT).toBe('3000');
      expect(last(runtime, 'EXPOSE')!.args).toBe('3000');
    });

    it('installs production dependencies of its workspaces only, in the first stage', () => {
      const install = all(deps, 'RUN').find((run) => /\bnpm ci\b/.test(run.args))!.args;
      expect(install).toContain('--omit=dev');
      expect(install).toContain(`--workspace @ticketing/${name}`);
      // The final stage installs nothing: it takes the first stage's tree whole.
      expect(all(runtime, 'RUN')).toEqual([]);
      expect(copies(runtime).filter((copy) => copy.from !== undefined)).toEqual([
        { from: deps.name, sources: ['/opt/tsx'], destination: '/opt/tsx' },
        { from: deps.name, sources: ['/app'], destination: '/app' },
      ]);
    });

    it('copies the manifest, sources and migrations of every workspace it depends on', () => {
      const manifests = copies(deps).flatMap((copy) => copy.sources);
      const sources = copies(runtime).flatMap((copy) => copy.sources);
      expect(closure.map((entry) => entry.name)).toContain('@ticketing/common');
      for (const entry of closure) {
        expect(manifests).toContain(`${entry.dir}/package.json`);
        expect(sources).toContain(`${entry.dir}/src`);
        if (existsSync(repoPath(entry.dir, 'drizzle'))) expect(sources).toContain(`${entry.dir}/drizzle`);
      }
    });

    it("has tsx, the lockfile's version, although it is a devDependency", () => {
      const root = JSON.parse(readRepoFile('package.json')) as { devDependencies: Record<string, string> };
      expect(root.devDependencies.tsx).toBeDefined();
      const lock = JSON.parse(readRepoFile('package-lock.json')) as {
        packages: Record<string, { version?: string }>;
      };
      expect(lock.packages['node_modules/tsx']?.version).toMatch(/^4\./);
      const run = all(deps, 'RUN')
        .map((instruction) => instruction.args)
        .join('\n');
      expect(run).toContain(`require('./package-lock.json').packages['node_modules/tsx'].version`);
      expect(run).toContain('ln -s /opt/tsx/node_modules/tsx node_modules/tsx');
    });
  });

  it("the services' HEALTHCHECK command exits 0 on a healthy /healthz and 1 otherwise", async () => {
    const command = execForm(
      last(finalStage(dockerfile(serviceNames[0]!)), 'HEALTHCHECK')!.args.replace(/^.*?CMD /, ''),
    )!;
    expect(command[0]).toBe('node');
    let status = 200;
    const server = http.createServer((request, response) => {
      response.statusCode = request.url === '/healthz' ? status : 404;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const run = (env: Record<string, string>) => runCommand(command, { ...process.env, ...env });
    try {
      expect(await run({ PORT: String(port) })).toBe(0);
      status = 503;
      expect(await run({ PORT: String(port) })).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await run({ PORT: String(port) })).toBe(1);
  });

  describe('web', () => {
    const file = dockerfile('web');
    const [build, runtime] = [file.stages[0]!, finalStage(file)];
    const nginx = readRepoFile('infra/docker/web/nginx.conf');
    const listen = /listen (\d+);/.exec(nginx)![1];

    it('builds the client with its workspace build script, as NODE_ENV=production', () => {
      expect(workspace('@ticketing/web').scripts.build).toMatch(/\bvite build\b/);
      const runs = all(build, 'RUN').map((instruction) => instruction.args);
      expect(runs).toContain('npm run build --workspace @ticketing/web');
      const env = Object.assign(
        {},
        ...all(build, 'ENV').map((instruction) => envOf(instruction.args)),
      ) as Record<string, string>;
      expect(env.NODE_ENV).toBe('production');
      // Vite writes apps/web/dist unless its config says otherwise.
      const viteConfig = readRepoFile('apps/web/vite.config.ts');
      const outDir = /outDir:\s*['"]([^'"]+)['"]/.exec(viteConfig)?.[1] ?? 'dist';
      expect(outDir).toBe('dist');
    });

    it('serves only the built files with nginx as a non-root user, health-checked on its own port', () => {
      expect(runtime.from).toMatch(/^nginxinc\/nginx-unprivileged:/);
      // Templates the image's entrypoint renders into /etc/nginx/conf.d at start (web-headers.test.ts).
      expect(copies(runtime)).toEqual([
        {
          sources: ['infra/docker/web/nginx.conf'],
          destination: '/etc/nginx/templates/default.conf.template',
        },
        {
          sources: ['infra/docker/web/security-headers.conf'],
          destination: '/etc/nginx/templates/security-headers.inc.template',
        },
        { sources: ['infra/docker/web/web-csp.envsh'], destination: '/docker-entrypoint.d/19-web-csp.envsh' },
        { from: build.name, sources: ['/app/apps/web/dist'], destination: '/usr/share/nginx/html' },
      ]);
      expect(nginx).toMatch(/root \/usr\/share\/nginx\/html;/);
      expect(last(runtime, 'EXPOSE')!.args).toBe(listen);
      expect(last(runtime, 'HEALTHCHECK')!.args).toContain(`http://127.0.0.1:${listen}/healthz`);
    });
  });
});

/** Runs a command to its exit code without blocking the event loop (the test's HTTP server). */
function runCommand(command: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

// ---------------------------------------------------------------------------------------------
// skaffold.yaml

describe('skaffold.yaml', () => {
  const skaffold = parse(readRepoFile('skaffold.yaml')) as JsonObject;
  const build = skaffold.build as JsonObject;
  const artifacts = build.artifacts as Array<{
    image: string;
    context: string;
    docker: { dockerfile: string };
  }>;

  it('builds every image from the repository root with its Dockerfile', () => {
    expect(skaffold.apiVersion).toMatch(/^skaffold\/v4beta\d+$/);
    expect(skaffold.kind).toBe('Config');
    expect(artifacts.map((artifact) => artifact.image).sort()).toEqual([...imageNames].sort());
    for (const artifact of artifacts) {
      const name = artifact.image.replace('ticketing/', '');
      expect(artifact.context).toBe('.');
      expect(artifact.docker.dockerfile).toBe(dockerfilePath(name));
      expect(statSync(repoPath(artifact.docker.dockerfile)).isFile()).toBe(true);
    }
  });

  it.skipIf(!renderer)(
    'deploys the dev overlay, whose images are the artifacts or pinned third-party images',
    () => {
      expect(skaffold.manifests).toEqual({ kustomize: { paths: ['infra/k8s/overlays/dev'] } });
      expect(skaffold.deploy).toEqual({ kubectl: {} });
      const images = overlay('dev').flatMap((resource) =>
        containersOf(resource).map((container) => container.image),
      );
      for (const image of images) {
        const parsed = parseImage(image);
        if (parsed.name.startsWith('ticketing/')) expect(imageNames, image).toContain(image);
        else expect(parsed.tag ?? parsed.digest, image).toMatch(/^(?!latest$)./);
      }
      expect(new Set(images.filter((image) => image.startsWith('ticketing/')))).toEqual(new Set(imageNames));
    },
  );

  it.skipIf(!renderer)('agrees with the prod overlay, which pins a tag on every one of these images', () => {
    const images = overlay('prod').flatMap((resource) =>
      containersOf(resource).map((container) => parseImage(container.image)),
    );
    const ours = images.filter((image) => image.name.startsWith('ticketing/'));
    expect(new Set(ours.map((image) => image.name))).toEqual(new Set(imageNames));
    for (const image of ours) expect(image.tag ?? image.digest).toMatch(/^(?!latest$)./);
  });
});

function containersOf(value: Json): Array<{ image: string }> {
  if (Array.isArray(value)) return value.flatMap(containersOf);
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    (key === 'containers' || key === 'initContainers') && Array.isArray(item)
      ? (item as Array<{ image: string }>)
      : containersOf(item),
  );
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

describe('infra/docker-compose.yml', () => {
  const composeDir = repoPath('infra');
  const compose = parse(readRepoFile('infra/docker-compose.yml'), { merge: true }) as {
    name: string;
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  interface ComposeService {
    image?: string;
    build?: { context: string; dockerfile: string };
    command?: string[];
    environment?: Record<string, string | number>;
    ports?: string[];
    volumes?: string[];
    depends_on?: string[] | Record<string, { condition: string }>;
    healthcheck?: { test: string[] };
    profiles?: string[];
  }
  const services = compose.services;
  /** `${NAME:-default}` as compose expands it with NAME unset. */
  const expand = (value: string | number) => String(value).replace(/\$\{(\w+):?-([^}]*)\}/g, '$2');

  it('is well formed: images or builds, dependencies and volumes that exist, ports on 127.0.0.1 only', () => {
    expect(compose.name).toBe('ticketing');
    for (const [name, service] of Object.entries(services)) {
      expect(service.image ?? service.build, name).toBeDefined();
      const dependencies = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dependency of dependencies)
        expect(services[dependency], `${name} -> ${dependency}`).toBeDefined();
      if (!Array.isArray(service.depends_on))
        for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {}))
          if (condition === 'service_healthy')
            expect(services[dependency]!.healthcheck, dependency).toBeDefined();
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':') as [string];
        if (source.startsWith('.')) expect(existsSync(path.resolve(composeDir, source)), volume).toBe(true);
        else expect(compose.volumes[source], volume).toBeDefined();
      }
    }
  });

  it('runs NATS with JetStream and PostgreSQL, each with a health check, always (no profile)', () => {
    expect(services.nats!.image).toMatch(/^nats:2\./);
    expect(services.nats!.command).toContain('--jetstream');
    expect(services.postgres!.image).toMatch(/^postgres:\d+/);
    for (const engine of ['nats', 'postgres']) {
      expect(services[engine]!.healthcheck?.test.length).toBeGreaterThan(1);
      expect(services[engine]!.profiles).toBeUndefined();
    }
  });

  it.each(serviceNames)(
    '%s: the same image and Dockerfile as skaffold, and the configuration it requires',
    (name) => {
      const service = services[name]!;
      expect(service.profiles).toEqual(['app']);
      expect(service.image).toBe(`ticketing/${name}`);
      expect(path.resolve(composeDir, service.build!.context)).toBe(repoRoot);
      expect(service.build!.dockerfile).toBe(dockerfilePath(name));
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [key, expand(value)]),
      );
      const required = standaloneConfigVariables()
        .filter((variable) => variable.required)
        .map((variable) => variable.name);
      for (const schema of serviceConfigSchemas[name] ?? [])
        required.push(...schemaRequiredVariables(schema));
      for (const variable of required) expect(env[variable], variable).toBeTruthy();
      for (const schema of serviceConfigSchemas[name] ?? [])
        expect(() => loadConfig(schema, env)).not.toThrow();
      // All services must share the key that auth signs sessions with.
      expect(env.JWT_KEY).toBe(expand(services[serviceNames[0]!]!.environment!.JWT_KEY!));
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'infra-jwt-'));
      try {
        expect(() =>
          resolveJwtKey({ jwtKey: env.JWT_KEY, nodeEnv: env.NODE_ENV ?? 'production', dataDir }),
        ).not.toThrow();
        expect(() => resolveJwtKey({ jwtKey: env.JWT_KEY, nodeEnv: 'production', dataDir })).not.toThrow();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      expect(services[new URL(env.DATABASE_URL!).hostname]).toBe(services.postgres);
      expect(new URL(env.DATABASE_URL!).pathname).toBe(`/ticketing_${name}`);
      expect(services[new URL(env.NATS_URL!).hostname]).toBe(services.nats);
    },
  );

  it.skipIf(!renderer)(
    'routes like the ingress through its gateway, to the ports the services listen on',
    () => {
      const gateway = services.gateway!;
      const mount = gateway.volumes!.find((volume) => volume.includes('/etc/nginx/conf.d/default.conf'))!;
      const config = readFileSync(path.resolve(composeDir, mount.split(':')[0]!), 'utf8');
      const routes: Record<string, string> = {};
      for (const match of config.matchAll(
        /location (?:~ \^(\/[\w/]+)\(\/\|\$\)|(\/)) \{\s*proxy_pass http:\/\/([\w-]+):(\d+);/g,
      )) {
        const [prefix, host, port] = [match[1] ?? match[2]!, match[3]!, match[4]!];
        expect(services[host], host).toBeDefined();
        expect(port).toBe(
          host === 'web' ? /listen (\d+);/.exec(readRepoFile('infra/docker/web/nginx.conf'))![1] : '3000',
        );
        routes[prefix] = host;
      }
      const ingress = get<IIngress>(overlay('dev'), 'Ingress', 'ticketing');
      const expected = Object.fromEntries(
        ingress.spec!.rules![0]!.http!.paths.map((entry) => [entry.path, entry.backend.service!.name]),
      );
      expect(routes).toEqual(expected);
      expect(gateway.ports).toEqual(['127.0.0.1:8080:8080']);
      expect(services.web!.build!.dockerfile).toBe(dockerfilePath('web'));
      expect(services.web!.image).toBe('ticketing/web');
    },
  );

  it.skipIf(!renderer)('uses the images the Kubernetes manifests use', () => {
    const deployments = overlay('dev').filter(
      (resource) => resource.kind === 'Deployment',
    ) as unknown as IDeployment[];
    for (const deployment of deployments) {
      const image = parseImage(deployment.spec!.template.spec!.containers[0]!.image!).name;
      expect(services[deployment.metadata!.name!]!.image).toBe(image);
    }
  });
});
