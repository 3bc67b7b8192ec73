import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget } from './errors.js';
import { parseFilter, type Filter } from './filter.js';
import { matchesFilter } from './filter-memory.js';
import { normalizeAttrPath } from './filter-sql.js';
import type { ResourceShape } from './shape.js';
import { PATCH_SCHEMA, USER_SCHEMA } from './user.js';

/**
 * SCIM PATCH (RFC 7644 §3.5.2) on a resource's JSON: add, replace and remove (operation names in
 * any case: Entra sends `Replace`), with or without a path, paths with a value filter
 * (`emails[type eq "work"].value`). All operations apply to a copy; the first failure refuses the
 * whole request (atomic). Attributes the resource does not store (the enterprise extension,
 * `title` …) are ignored; read-only ones are refused (`mutability`).
 */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string | undefined;
  value?: unknown;
}


export const MAX_PATCH_OPERATIONS = 1000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a PatchOp message: `schemas` naming PatchOp and a non-empty `Operations` list. */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('the body must be a PatchOp message');
  const entries = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  const schemas = entries.get('schemas');
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_SCHEMA)) throw invalidSyntax(`schemas must contain ${PATCH_SCHEMA}`);
  const operations = entries.get('operations');
  if (!Array.isArray(operations) || operations.length === 0) throw invalidSyntax('Operations must be a non-empty list');
  if (operations.length > MAX_PATCH_OPERATIONS) throw invalidSyntax(`at most ${MAX_PATCH_OPERATIONS} operations per request`);
  return operations.map((o, i) => {
    if (!isObject(o)) throw invalidSyntax(`Operations[${i}] must be an object`);
    const m = new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
    const op = typeof m.get('op') === 'string' ? (m.get('op') as string).toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw invalidSyntax(`Operations[${i}].op must be add, replace or remove`);
    const path = m.get('path');
    if (path !== undefined && path !== null && (typeof path !== 'string' || path.trim() === '')) throw invalidPath(`Operations[${i}].path must be a non-empty string`);
    if (op === 'remove' && !path) throw noTarget(`Operations[${i}]: remove needs a path`);
    if (op !== 'remove' && !m.has('value')) throw invalidValue(`Operations[${i}]: ${op} needs a value`);
    return { op, ...(path ? { path: path as string } : {}), ...(m.has('value') ? { value: m.get('value') } : {}) };
  });
}

interface Target {
  attribute: string; // canonical
  filter?: Filter;
  sub?: string; // canonical
}

const EXTENSION_URN = /^urn:/i;

function parsePath(path: string, shape: ResourceShape): Target | null {
  const normalized = normalizeAttrPath(path.trim());
  if (EXTENSION_URN.test(normalized)) return null; // an extension schema we do not store
  const m = /^([a-z$][a-z0-9_$-]*)(?:\[(.*)\])?(?:\.([a-z$][a-z0-9_$-]*))?$/is.exec(normalized);
  if (!m) throw invalidPath(`"${path}" is not an attribute path`);
  const [, name, filterText, sub] = m;
  if (shape.readOnly.has(name!)) throw mutability(`${name} is read-only`);
  const attribute = shape.attributes[name!];
  if (!attribute) return null;
  const target: Target = { attribute };
  if (filterText !== undefined) {
    if (!shape.multiValued.has(attribute)) throw invalidPath(`${attribute} is not multi-valued: it takes no [filter]`);
    // Filters inside a path are written against the element: the original text keeps its case.
    target.filter = parseFilter(path.slice(path.indexOf('[') + 1, path.lastIndexOf(']')));
  }
  if (sub !== undefined) target.sub = shape.subAttributes[sub.toLowerCase()] ?? sub;
  if (sub !== undefined && !shape.multiValued.has(attribute) && !shape.complex.has(attribute)) throw invalidPath(`${attribute} has no sub-attribute ${sub}`);
  return target;
}

/** `type eq "work"` (alone or and-ed) → `{ type: 'work' }`: what a new element must look like to match. */
function seedOf(f: Filter): Json | null {
  if (f.op === 'eq' && /^[a-z$][a-z0-9_$-]*$/i.test(f.attrPath)) return { [f.attrPath]: f.compValue };
  if (f.op === 'and') {
    const parts = f.filters.map(seedOf);
    return parts.every(Boolean) ? Object.assign({}, ...parts) as Json : null;
  }
  return null;
}

function canonicalKeys(value: unknown, shape: ResourceShape): unknown {
  if (Array.isArray(value)) return value.map((v) => canonicalKeys(v, shape));
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [shape.subAttributes[k.toLowerCase()] ?? k, v]));
}

const sameValue = (a: unknown, b: unknown) =>
  isObject(a) && isObject(b) && a.value !== undefined && String(a.value).toLowerCase() === String(b.value).toLowerCase();

function addToList(list: unknown[], items: unknown[]): unknown[] {
  const out = [...list];
  for (const item of items) {
    if (isObject(item) && item.primary === true) for (const o of out) if (isObject(o)) delete o.primary;
    const i = out.findIndex((o) => sameValue(o, item));
    if (i >= 0) out[i] = isObject(out[i]) && isObject(item) ? { ...(out[i] as Json), ...item } : item;
    else out.push(item);
  }
  return out;
}

function applyOne(resource: Json, op: PatchOperation, shape: ResourceShape): void {
  if (!op.path) {
    if (!isObject(op.value)) throw invalidValue(`${op.op} without a path takes an object of attributes`);
    for (const [key, value] of Object.entries(op.value)) {
      if (EXTENSION_URN.test(key)) {
        // `urn:…:core:2.0:User` with an object of core attributes; other schemas are not stored.
        if (isObject(value) && key.toLowerCase() === USER_SCHEMA.toLowerCase()) for (const [k, v] of Object.entries(value)) applyOne(resource, { op: op.op, path: k, value: v }, shape);
        continue;
      }
      if (key.toLowerCase() === 'schemas') continue;
      applyOne(resource, { op: op.op, path: key, value }, shape);
    }
    return;
  }
  const target = parsePath(op.path, shape);
  if (!target) return;
  const { attribute } = target;
  const value = canonicalKeys(op.value, shape);

  if (shape.multiValued.has(attribute)) {
    const list = Array.isArray(resource[attribute]) ? [...(resource[attribute] as unknown[])] : [];
    if (!target.filter) {
      if (target.sub) throw invalidPath(`${op.path}: pick elements with a filter, e.g. ${attribute}[type eq "work"].${target.sub}`);
      if (op.op === 'remove') {
        if (op.value === undefined) delete resource[attribute];
        else {
          const items = Array.isArray(value) ? value : [value];
          const left = list.filter((e) => !items.some((i) => sameValue(e, i)));
          if (left.length) resource[attribute] = left;
          else delete resource[attribute];
        }
        return;
      }
      const items = Array.isArray(value) ? value : [value];
      if (!items.every(isObject)) throw invalidValue(`${attribute} takes objects such as {"value": …}`);
      resource[attribute] = op.op === 'replace' ? addToList([], items) : addToList(list, items);
      return;
    }
    const hits = list.map((e, i) => (matchesFilter(e, target.filter!) ? i : -1)).filter((i) => i >= 0);
    if (op.op === 'remove') {
      if (target.sub) for (const i of hits) delete (list[i] as Json)[target.sub];
      const left = list.filter((e, i) => !hits.includes(i) || (target.sub !== undefined && isObject(e) && e.value !== undefined));
      if (left.length) resource[attribute] = left;
      else delete resource[attribute];
      return;
    }
    if (hits.length === 0) {
      // Providers add or replace `emails[type eq "work"].value` before any work e-mail exists.
      const seed = seedOf(target.filter);
      if (!seed) throw noTarget(`${op.path} matches nothing`);
      const element = target.sub ? { ...seed, [target.sub]: value } : { ...seed, ...(isObject(value) ? value : { value }) };
      resource[attribute] = addToList(list, [element]);
      return;
    }
    for (const i of hits) {
      if (target.sub) (list[i] as Json)[target.sub] = value;
      else if (isObject(value)) list[i] = op.op === 'replace' && !isObject(list[i]) ? value : { ...(list[i] as Json), ...value };
      else throw invalidValue(`${op.path} takes an object`);
    }
    resource[attribute] = list;
    return;
  }

  if (shape.complex.has(attribute)) {
    const current = isObject(resource[attribute]) ? { ...(resource[attribute] as Json) } : {};
    if (target.sub) {
      if (op.op === 'remove') delete current[target.sub];
      else current[target.sub] = value;
      resource[attribute] = current;
      return;
    }
    if (op.op === 'remove') {
      delete resource[attribute];
      return;
    }
    if (!isObject(value)) throw invalidValue(`${attribute} takes an object`);
    resource[attribute] = { ...current, ...value };
    return;
  }
  if (target.sub) throw invalidPath(`${attribute} has no sub-attributes`);
  if (op.op === 'remove') delete resource[attribute];
  else resource[attribute] = value;
}

/** Applies `operations` to a copy of `resource`; throws a SCIM 400 (nothing applied) on the first bad one. */
export function applyPatch<T extends Json>(resource: T, operations: readonly PatchOperation[], shape: ResourceShape): T {
  const copy = structuredClone(resource) as Json;
  for (const op of operations) applyOne(copy, op, shape);
  return copy as T;
}
