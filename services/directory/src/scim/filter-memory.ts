import { invalidFilter } from './errors.js';
import type { Filter } from './filter.js';
import { normalizeAttrPath } from './filter-sql.js';

/**
 * Evaluates a SCIM filter against a resource in memory (Groups, which are few, and the elements a
 * PATCH path picks). Attribute names ignore case; so do string values (the attributes filtered
 * this way — displayName, type, value — are not caseExact); a multi-valued attribute matches when
 * one of its values does.
 */
export function matchesFilter(resource: unknown, f: Filter): boolean {
  switch (f.op) {
    case 'and': return f.filters.every((c) => matchesFilter(resource, c));
    case 'or': return f.filters.some((c) => matchesFilter(resource, c));
    case 'not': return !matchesFilter(resource, f.filter);
    case '[]': return valuesAt(resource, normalizeAttrPath(f.attrPath).split('.')).some((v) => matchesFilter(v, f.valFilter));
    case 'pr': return valuesAt(resource, normalizeAttrPath(f.attrPath).split('.')).some((v) => v !== null && v !== '');
    default: {
      const wanted = typeof f.compValue === 'string' ? f.compValue.toLowerCase() : f.compValue;
      return valuesAt(resource, normalizeAttrPath(f.attrPath).split('.')).some((raw) => {
        const actual = typeof raw === 'string' ? raw.toLowerCase() : raw;
        switch (f.op) {
          case 'eq': return actual === wanted;
          case 'ne': return actual !== wanted;
          case 'co': return typeof actual === 'string' && typeof wanted === 'string' && actual.includes(wanted);
          case 'sw': return typeof actual === 'string' && typeof wanted === 'string' && actual.startsWith(wanted);
          case 'ew': return typeof actual === 'string' && typeof wanted === 'string' && actual.endsWith(wanted);
          default:
            if (typeof actual !== 'string' || typeof wanted !== 'string') throw invalidFilter(`${f.op} compares strings or date-times`);
            return f.op === 'gt' ? actual > wanted : f.op === 'ge' ? actual >= wanted : f.op === 'lt' ? actual < wanted : actual <= wanted;
        }
      });
    }
  }
}

function valuesAt(value: unknown, path: string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, path));
  if (path.length === 0) return value === undefined ? [] : [value];
  if (typeof value !== 'object' || value === null) return [];
  const entry = Object.entries(value).find(([k]) => k.toLowerCase() === path[0]);
  return entry ? valuesAt(entry[1], path.slice(1)) : [];
}
