// Validates rendered Kubernetes objects against the API's schemas, offline, in two passes:
//  1. kubernetes-models' generated JSON-schema validators (types, required fields, enums). They
//     accept unknown fields, so on their own a misspelt or misplaced key would pass;
//  2. an unknown-field walk over the API's field lists as @kubernetes/client-node generates them
//     from the same OpenAPI document (each model's attributeTypeMap): every key must be a field of
//     the model at that place — what `kubectl apply --validate=strict` would reject on a server.
import * as models from 'kubernetes-models';
import * as api from '@kubernetes/client-node/dist/gen/models/all.js';
import type { K8sObject } from './support.js';

interface Attribute { baseName: string; type: string }
type ModelClass = { attributeTypeMap?: Attribute[]; getAttributeTypeMap?: () => Attribute[] };
type Validating = new (data: unknown) => { validate(): void };

const apiModels = api as unknown as Record<string, ModelClass | undefined>;

/** `apps/v1` → kubernetes-models' `apps.v1`; `networking.k8s.io/v1` → `networkingK8sIo.v1`; `v1` → `v1`. */
function validatingClass(apiVersion: string, kind: string): Validating {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') as [string, string] : ['', apiVersion];
  const groupKey = group.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase());
  const namespace = (group ? (models as Record<string, unknown>)[groupKey] : models) as Record<string, Record<string, unknown>> | undefined;
  const cls = namespace?.[version]?.[kind];
  if (typeof cls !== 'function') throw new Error(`no Kubernetes schema for ${apiVersion} ${kind}`);
  return cls as Validating;
}

/** The client's model name for a top-level object: `autoscaling/v2` HorizontalPodAutoscaler → V2HorizontalPodAutoscaler. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

const SCALARS = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined || SCALARS.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  const model = apiModels[type];
  const attributes = model?.attributeTypeMap ?? model?.getAttributeTypeMap?.();
  if (!attributes) throw new Error(`${path}: no field list for type ${type}`);
  if (typeof value !== 'object' || Array.isArray(value)) return; // a type error: pass 1 reports it
  for (const [key, v] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (!attribute) out.push(`${path}.${key}: unknown field (not in ${type})`);
    else unknownFields(v, attribute.type, `${path}.${key}`, out);
  }
}

/**
 * kustomize's secretGenerator wraps long base64 values over lines; the API server's decoder (Go's
 * encoding/base64) ignores the newlines, the schema's "byte" format does not.
 */
function withUnwrappedSecretData(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || typeof object['data'] !== 'object' || object['data'] === null) return object;
  const data = Object.fromEntries(Object.entries(object['data']).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/\s+/g, '') : v]));
  return { ...object, data };
}

/** Every problem with one object (empty when it is valid). */
export function validateObject(object: K8sObject): string[] {
  const where = `${object.kind}/${object.metadata?.name}`;
  const problems: string[] = [];
  try {
    const Cls = validatingClass(object.apiVersion, object.kind);
    new Cls(withUnwrappedSecretData(object)).validate();
  } catch (error) {
    problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const name = modelName(object.apiVersion, object.kind);
  if (!apiModels[name]) problems.push(`${where}: no field list for ${object.apiVersion} ${object.kind}`);
  else unknownFields(object, name, where, problems);
  return problems;
}
