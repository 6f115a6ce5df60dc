/**
 * The kustomize stand-in (./kustomize.ts): the merges it does as kustomize 5 does them (the
 * expected outputs below are what `kubectl kustomize` printed for the same input), and the
 * refusals for what it does not do.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseImage, renderKustomization, strategicMerge, type Json } from './kustomize.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A kustomization in a temporary folder, from file name -> content. */
function kustomization(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infra-kustomize-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers:
        - name: a
          image: ia
          env: [{name: A, value: "1"}, {name: B, value: "2"}, {name: C, value: "3"}]
          ports: [{containerPort: 1, name: p1}]
        - name: b
          image: ib
`;

describe('strategic merge', () => {
  it('merges containers, env and ports by key, patch elements first; null removes a field', () => {
    const patch = `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers:
        - name: a
          env: [{name: C, value: "33"}, {name: D, value: "4"}, {name: A, value: null}]
          ports: [{containerPort: 2, name: p2}]
          args: [x]
        - name: c
          image: ic
`;
    const dir = kustomization({
      'd.yaml': deployment,
      'p.yaml': patch,
      'kustomization.yaml': 'resources: [d.yaml]\npatches: [{path: p.yaml}]\n',
    });
    const [rendered] = renderKustomization(dir);
    expect(rendered).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'a',
                image: 'ia',
                args: ['x'],
                env: [
                  { name: 'C', value: '33' },
                  { name: 'D', value: '4' },
                  { name: 'A' },
                  { name: 'B', value: '2' },
                ],
                ports: [
                  { containerPort: 2, name: 'p2' },
                  { containerPort: 1, name: 'p1' },
                ],
              },
              { name: 'c', image: 'ic' },
              { name: 'b', image: 'ib' },
            ],
          },
        },
      },
    });
  });

  it('replaces lists without a merge key, merges maps, and leaves its inputs alone', () => {
    const original: Json = { spec: { tls: [{ secretName: 'a' }], rules: [{ host: 'a' }], replicas: 1 } };
    const patch: Json = { spec: { tls: [{ secretName: 'b' }], replicas: 2 } };
    expect(strategicMerge(original, patch)).toEqual({
      spec: { tls: [{ secretName: 'b' }], rules: [{ host: 'a' }], replicas: 2 },
    });
    expect(original).toEqual({ spec: { tls: [{ secretName: 'a' }], rules: [{ host: 'a' }], replicas: 1 } });
  });

  it('refuses what it does not implement rather than merging it wrong', () => {
    expect(() => strategicMerge({ a: 1 }, { $patch: 'replace' })).toThrow(/directive/);
    expect(() => strategicMerge({ items: [{ x: 1 }] }, { items: [{ x: 2 }] })).toThrow(/merge strategy/);
    expect(() => strategicMerge({ env: [{ name: 'A' }] }, { env: [{ value: 'x' }] })).toThrow(
      /has no "name"/,
    );
  });
});

describe('images', () => {
  it('parses names with registries, ports, tags and digests', () => {
    expect(parseImage('ticketing/auth')).toEqual({ name: 'ticketing/auth' });
    expect(parseImage('registry:5000/ticketing/auth:1.2')).toEqual({
      name: 'registry:5000/ticketing/auth',
      tag: '1.2',
    });
    expect(parseImage('nats:2.10-alpine@sha256:abc')).toEqual({
      name: 'nats',
      tag: '2.10-alpine',
      digest: 'sha256:abc',
    });
  });

  it('sets new names, tags and digests on the containers of any workload', () => {
    const dir = kustomization({
      'd.yaml': deployment,
      'kustomization.yaml': `resources: [d.yaml]
images:
  - {name: ia, newName: registry.local/ia, newTag: "2"}
  - {name: ib, digest: "sha256:0f"}
`,
    });
    const [rendered] = renderKustomization(dir);
    const containers = (
      rendered as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }
    ).spec.template.spec.containers;
    expect(containers.map((container) => container.image)).toEqual(['registry.local/ia:2', 'ib@sha256:0f']);
  });
});

describe('kustomizations', () => {
  it('loads resources from files and from other kustomizations', () => {
    const base = kustomization({ 'd.yaml': deployment, 'kustomization.yaml': 'resources: [d.yaml]\n' });
    const dir = kustomization({
      's.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 1}]}\n',
      'kustomization.yaml': `resources: [${base}, s.yaml]\n`,
    });
    expect(renderKustomization(dir).map((resource) => `${resource.kind}/${resource.metadata.name}`)).toEqual([
      'Deployment/x',
      'Service/x',
    ]);
  });

  it('refuses unsupported fields, duplicates and patches that match nothing', () => {
    const generator = kustomization({
      'kustomization.yaml': 'configMapGenerator: [{name: x, literals: [a=b]}]\n',
    });
    expect(() => renderKustomization(generator)).toThrow(/configMapGenerator/);
    const twice = kustomization({
      'd.yaml': deployment,
      'kustomization.yaml': 'resources: [d.yaml, d.yaml]\n',
    });
    expect(() => renderKustomization(twice)).toThrow(/defined twice/);
    const stray = kustomization({
      'd.yaml': deployment,
      'p.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: y}\nspec: {replicas: 2}\n',
      'kustomization.yaml': 'resources: [d.yaml]\npatches: [{path: p.yaml}]\n',
    });
    expect(() => renderKustomization(stray)).toThrow(/matches 0 resources/);
    const targeted = kustomization({
      'd.yaml': deployment,
      'p.yaml': '[]',
      'kustomization.yaml': 'resources: [d.yaml]\npatches: [{path: p.yaml, target: {kind: Deployment}}]\n',
    });
    expect(() => renderKustomization(targeted)).toThrow(/path alone/);
  });
});
