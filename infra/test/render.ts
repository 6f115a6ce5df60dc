/**
 * The manifests as kustomize renders them: `kustomize build` on a kustomization folder, or
 * `kubectl kustomize` (the same kustomize, built into kubectl: what `kubectl apply -k` uses), its
 * output parsed. Whichever is on PATH renders; with neither, the suites that need a rendering are
 * skipped and say so. CI puts kubectl on PATH (.ci/run, from the npm registry).
 *
 * Also what the infra tests share about the objects themselves: their JSON shape, and image
 * references split into name, tag and digest.
 */
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & JsonObject;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits `registry:5000/name:tag@sha256:...` into name, tag and digest. */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = image.split('@', 2) as [string, string | undefined];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : withoutDigest.slice(colon + 1);
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** A command that renders a kustomization folder given as its last argument. */
export interface Renderer {
  name: string;
  command: string;
  args: string[];
  /** The kustomize inside it, e.g. `v5.7.1`. */
  version: string;
}

function versionOf(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  // `kustomize version`: v5.7.1 (or {Version:kustomize/v4.5.4 ...}); kubectl: "Kustomize Version: v5.7.1".
  return (
    /Kustomize Version: (v\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ??
    /v\d+\.\d+\.\d+/.exec(result.stdout)?.[0]
  );
}

function findRenderer(): Renderer | undefined {
  const kustomize = versionOf('kustomize', ['version']);
  if (kustomize) return { name: 'kustomize', command: 'kustomize', args: ['build'], version: kustomize };
  const kubectl = versionOf('kubectl', ['version', '--client']);
  if (kubectl)
    return { name: 'kubectl kustomize', command: 'kubectl', args: ['kustomize'], version: kubectl };
  return undefined;
}

/** This machine's renderer; undefined when neither kustomize nor kubectl is installed. */
export const renderer: Renderer | undefined = findRenderer();

export const NO_RENDERER =
  'neither kustomize nor kubectl is on PATH, so the Kubernetes manifests are not rendered and their checks are skipped (CI installs kubectl; so does any kubectl or kustomize 4.5+ installation)';

/** Parses the YAML stream kustomize (or kubectl kustomize) prints into its objects. */
export function parseRendered(output: string, what: string): Resource[] {
  return parseAllDocuments(output).flatMap((document): Resource[] => {
    if (document.errors.length > 0)
      throw new Error(`${what}: ${document.errors.map((error) => error.message).join('; ')}`);
    const value = document.toJS({ maxAliasCount: -1 }) as Json;
    if (value === null) return [];
    if (
      !isObject(value) ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isObject(value.metadata) ||
      typeof value.metadata.name !== 'string'
    )
      throw new Error(`${what}: an object without apiVersion, kind and metadata.name`);
    return [value as Resource];
  });
}

/** The objects the renderer prints for `dir`; its error message if it refuses the kustomization. */
export function renderKustomization(dir: string): Resource[] {
  if (!renderer) throw new Error(NO_RENDERER);
  const result = spawnSync(renderer.command, [...renderer.args, dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`${renderer.name} ${dir} failed (exit ${result.status}): ${result.stderr.trim()}`);
  return parseRendered(result.stdout, `${renderer.name} ${dir}`);
}
