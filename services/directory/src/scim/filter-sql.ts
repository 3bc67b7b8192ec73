import { invalidFilter } from './errors.js';
import type { CompValue, Filter } from './filter.js';

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A SCIM filter as a SQL condition over the Users query (`person p LEFT JOIN scim_user s`).
 * Attribute names are case-insensitive and may carry the core schema URN; string comparisons
 * follow each attribute's caseExact (userName, names and e-mails ignore case; id and externalId do not).
 */
export interface SqlAttribute {
  expr: string;
  type: 'string' | 'boolean' | 'dateTime';
  caseExact: boolean;
}

export type AttributeMap = Record<string, SqlAttribute>;

const CORE_URNS = ['urn:ietf:params:scim:schemas:core:2.0:user:', 'urn:ietf:params:scim:schemas:core:2.0:group:'];

/** `urn:…:User:name.givenName` → `name.givenname`. */
export function normalizeAttrPath(path: string): string {
  const lower = path.toLowerCase();
  for (const urn of CORE_URNS) if (lower.startsWith(urn)) return lower.slice(urn.length);
  return lower;
}

export function filterToSql(filter: Filter, attributes: AttributeMap, params: unknown[]): string {
  const param = (value: unknown, cast = '') => {
    params.push(value);
    return `$${params.length}${cast}`;
  };
  const resolve = (path: string, prefix?: string): SqlAttribute => {
    const key = normalizeAttrPath(prefix ? `${prefix}.${path}` : path);
    const attribute = attributes[key];
    if (!attribute) throw invalidFilter(`the attribute "${prefix ? `${prefix}[${path}]` : path}" cannot be filtered on`);
    return attribute;
  };

  const compare = (f: Extract<Filter, { compValue: CompValue }>, a: SqlAttribute): string => {
    const v = f.compValue;
    if (v === null) {
      if (f.op === 'eq') return `(${a.expr}) IS NULL`;
      if (f.op === 'ne') return `(${a.expr}) IS NOT NULL`;
      throw invalidFilter(`${f.attrPath} ${f.op} null: only eq and ne compare with null`);
    }
    if (a.type === 'boolean') {
      if (typeof v !== 'boolean') throw invalidFilter(`${f.attrPath} is true or false, not ${JSON.stringify(v)}`);
      if (f.op === 'eq') return `(${a.expr}) = ${param(v, '::boolean')}`;
      if (f.op === 'ne') return `(${a.expr}) <> ${param(v, '::boolean')}`;
      throw invalidFilter(`${f.attrPath} is a boolean: only eq and ne apply`);
    }
    if (typeof v !== 'string') throw invalidFilter(`${f.attrPath} is compared with a "string", not ${JSON.stringify(v)}`);
    if (a.type === 'dateTime') {
      // xsd:dateTime as SCIM says (RFC 7643 §2.3.5), checked here: JavaScript reads "2" as a date and
      // Postgres does not (that was a 500). Postgres gets the normalized instant.
      if (!DATE_TIME.test(v) || Number.isNaN(Date.parse(v))) throw invalidFilter(`${f.attrPath}: "${v}" is not a date-time such as "2026-01-31T09:00:00Z"`);
      const instant = new Date(v).toISOString();
      const ops = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;
      if (!(f.op in ops)) throw invalidFilter(`${f.attrPath} is a date-time: use eq ne gt ge lt le`);
      return `(${a.expr}) ${ops[f.op as keyof typeof ops]} ${param(instant, '::timestamptz')}`;
    }
    const x = a.caseExact ? `(${a.expr})` : `lower(${a.expr})`;
    const p = a.caseExact ? param(v) : `lower(${param(v)})`;
    switch (f.op) {
      case 'eq': return `${x} = ${p}`;
      case 'ne': return `${x} <> ${p}`;
      case 'co': return `strpos(${x}, ${p}) > 0`;
      case 'sw': return `starts_with(${x}, ${p})`;
      case 'ew': return `right(${x}, length(${p})) = ${p}`;
      // Code-point order, as the reference evaluator compares JavaScript strings.
      case 'gt': return `${x} COLLATE "C" > ${p} COLLATE "C"`;
      case 'ge': return `${x} COLLATE "C" >= ${p} COLLATE "C"`;
      case 'lt': return `${x} COLLATE "C" < ${p} COLLATE "C"`;
      case 'le': return `${x} COLLATE "C" <= ${p} COLLATE "C"`;
    }
  };

  const walk = (f: Filter, prefix?: string): string => {
    switch (f.op) {
      case 'and':
      case 'or':
        return `(${f.filters.map((c) => walk(c, prefix)).join(` ${f.op.toUpperCase()} `)})`;
      case 'not':
        return `NOT COALESCE(${walk(f.filter, prefix)}, false)`;
      case '[]':
        if (prefix) throw invalidFilter('a value filter cannot nest inside another');
        return walk(f.valFilter, f.attrPath);
      case 'pr': {
        const a = resolve(f.attrPath, prefix);
        return a.type === 'string' ? `COALESCE((${a.expr}) <> '', false)` : `(${a.expr}) IS NOT NULL`;
      }
      default:
        return `COALESCE(${compare(f, resolve(f.attrPath, prefix))}, false)`;
    }
  };
  return walk(filter);
}
