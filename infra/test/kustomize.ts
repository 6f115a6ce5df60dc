/**
 * Renders a kustomization the way `kustomize build` does, for the few features infra/k8s uses, so
 * that the tests need no kustomize binary (and download nothing):
 *
 * - `resources`: YAML files (one or more documents) and directories holding a kustomization;
 * - `patches`: strategic merge patches given by `path` (a file may hold several), each applied to
 *   the one resource of the same apiVersion, kind and name;
 * - `images`: `newName`, `newTag` and `digest` for the images of containers and initContainers.
 *
 * Strategic merge here: maps merge recursively, `null` removes a field, and the lists Kubernetes
 * merges by key (containers, initContainers, env, volumes, volumeMounts by name or mount path,
 * ports by port number) merge element by element: the patch's elements first, in its order, then
 * the original's others (kustomize 5 orders them so). Lists known to be replaced whole (command,
 * args, envFrom, ingress rules, ...) are replaced.
 *
 * Anything else (another kustomization field, a `$patch` directive, a patch with a target, a list
 * whose merge strategy is not known here) is refused with an error rather than rendered wrong.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & JsonObject;
}

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'patches', 'images']);

/** List fields merged element by element, and the field that identifies an element. */
function mergeKeyOf(field: string, items: Json[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      // Container ports merge by containerPort, Service ports by port.
      return items.every((item) => isObject(item) && 'containerPort' in item) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

/** List fields Kubernetes replaces whole (no patch merge key). */
const ATOMIC_LISTS = new Set([
  'command',
  'args',
  'envFrom',
  'accessModes',
  'rules',
  'paths',
  'tls',
  'hosts',
  'drop',
  'add',
  'finalizers',
  'tolerations',
  'topologySpreadConstraints',
  'preferredDuringSchedulingIgnoredDuringExecution',
  'requiredDuringSchedulingIgnoredDuringExecution',
]);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new Error(`kustomize loader: ${message}`);
}

function readYamlDocuments(file: string): Json[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  if (!Array.isArray(documents)) fail(`${file} is empty`);
  return documents.map((document) => {
    if (document.errors.length > 0) fail(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
    return document.toJS({ maxAliasCount: -1 }) as Json;
  });
}

function asResource(value: Json, file: string): Resource {
  if (
    !isObject(value) ||
    typeof value.apiVersion !== 'string' ||
    typeof value.kind !== 'string' ||
    !isObject(value.metadata) ||
    typeof value.metadata.name !== 'string'
  ) {
    fail(`${file}: a document without apiVersion, kind and metadata.name`);
  }
  return value as Resource;
}

export function resourceId(resource: Resource): string {
  const namespace = resource.metadata.namespace ?? '';
  return `${resource.apiVersion}/${resource.kind}/${namespace}/${resource.metadata.name}`;
}

/** Strategic merge of `patch` into `original` (neither is modified). */
export function strategicMerge(original: Json, patch: Json, field = ''): Json {
  if (isObject(patch)) {
    for (const key of Object.keys(patch))
      if (key.startsWith('$')) fail(`patch directive ${key} is not supported`);
    const result: JsonObject = isObject(original) ? { ...original } : {};
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete result[key];
      else result[key] = key in result ? strategicMerge(result[key]!, value, key) : withoutNulls(value);
    }
    return result;
  }
  if (Array.isArray(patch)) {
    if (!Array.isArray(original)) return withoutNulls(patch);
    const key = mergeKeyOf(field, patch);
    if (key === undefined) {
      if (ATOMIC_LISTS.has(field) || patch.every((item) => !isObject(item))) return withoutNulls(patch);
      fail(`the patch sets list "${field}", whose merge strategy this loader does not know`);
    }
    const keyOf = (item: Json): Json => {
      if (!isObject(item) || item[key] === undefined) fail(`an element of "${field}" has no "${key}"`);
      return item[key]!;
    };
    const patchKeys = new Set(patch.map(keyOf));
    const merged = patch.map((item) => {
      const match = original.find((candidate) => keyOf(candidate) === keyOf(item));
      return match === undefined ? withoutNulls(item) : strategicMerge(match, item, field);
    });
    return [...merged, ...original.filter((item) => !patchKeys.has(keyOf(item)))];
  }
  return patch;
}

function withoutNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (isObject(value)) {
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(value)) if (item !== null) result[key] = withoutNulls(item);
    return result;
  }
  return value;
}

interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
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

function applyImageRules(value: Json, rules: ImageRule[]): void {
  if (Array.isArray(value)) {
    for (const item of value) applyImageRules(item, rules);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    if ((key === 'containers' || key === 'initContainers') && Array.isArray(item)) {
      for (const container of item) {
        if (!isObject(container) || typeof container.image !== 'string') continue;
        const image = parseImage(container.image);
        const rule = rules.find((candidate) => candidate.name === image.name);
        if (!rule) continue;
        const name = rule.newName ?? image.name;
        if (rule.digest) container.image = `${name}@${rule.digest}`;
        else if (rule.newTag) container.image = `${name}:${rule.newTag}`;
        else
          container.image =
            name + (image.tag ? `:${image.tag}` : '') + (image.digest ? `@${image.digest}` : '');
      }
    }
    applyImageRules(item, rules);
  }
}

function kustomizationFile(dir: string): string {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  return fail(`no kustomization in ${dir}`);
}

function stringList(value: Json | undefined, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    fail(`${what} must be a list of paths`);
  return value;
}

/** The resources `kustomize build <dir>` would print (in the order loaded, not kustomize's). */
export function renderKustomization(dir: string): Resource[] {
  const file = kustomizationFile(dir);
  const [kustomization] = readYamlDocuments(file);
  if (!isObject(kustomization)) return fail(`${file} is not a map`);
  for (const key of Object.keys(kustomization))
    if (!KUSTOMIZATION_FIELDS.has(key)) fail(`${file}: field "${key}" is not supported`);

  const resources: Resource[] = [];
  const add = (resource: Resource, from: string) => {
    if (resources.some((existing) => resourceId(existing) === resourceId(resource)))
      fail(`${from}: ${resourceId(resource)} is defined twice`);
    resources.push(resource);
  };
  for (const entry of stringList(kustomization.resources, `${file}: resources`)) {
    if (/^[a-z]+:\/\//i.test(entry) || entry.startsWith('github.com/'))
      fail(`${file}: remote resource ${entry}`);
    const target = path.resolve(dir, entry);
    if (statSync(target).isDirectory()) {
      for (const resource of renderKustomization(target)) add(resource, target);
    } else {
      for (const document of readYamlDocuments(target))
        if (document !== null) add(asResource(document, target), target);
    }
  }

  const patches = kustomization.patches ?? [];
  if (!Array.isArray(patches)) fail(`${file}: patches must be a list`);
  for (const entry of patches) {
    if (!isObject(entry) || typeof entry.path !== 'string' || Object.keys(entry).length !== 1)
      fail(`${file}: only patches given by a path alone are supported`);
    const patchFile = path.resolve(dir, entry.path);
    for (const document of readYamlDocuments(patchFile)) {
      if (document === null) continue;
      const patch = asResource(document, patchFile);
      const matches = resources.filter(
        (resource) =>
          resource.apiVersion === patch.apiVersion &&
          resource.kind === patch.kind &&
          resource.metadata.name === patch.metadata.name &&
          (patch.metadata.namespace === undefined ||
            resource.metadata.namespace === patch.metadata.namespace),
      );
      if (matches.length !== 1)
        fail(`${patchFile}: ${resourceId(patch)} matches ${matches.length} resources, not one`);
      const index = resources.indexOf(matches[0]!);
      resources[index] = asResource(strategicMerge(matches[0]!, patch), patchFile);
    }
  }

  const images = kustomization.images ?? [];
  if (!Array.isArray(images)) fail(`${file}: images must be a list`);
  const rules = images.map((entry): ImageRule => {
    if (!isObject(entry) || typeof entry.name !== 'string') return fail(`${file}: an image without name`);
    for (const key of Object.keys(entry))
      if (!['name', 'newName', 'newTag', 'digest'].includes(key))
        fail(`${file}: images.${key} is not supported`);
    const rule: ImageRule = { name: entry.name };
    for (const key of ['newName', 'newTag', 'digest'] as const) {
      const value = entry[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') fail(`${file}: images.${key} must be a string`);
      rule[key] = value;
    }
    return rule;
  });
  if (rules.length > 0) for (const resource of resources) applyImageRules(resource, rules);
  return resources;
}
