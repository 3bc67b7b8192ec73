import { invalidFilter } from './errors.js';

/**
 * SCIM filters (RFC 7644 §3.4.2.2) parsed into the same tree the `scim2-parse-filter` package
 * produces (the tests compare both): `and`/`or` hold `filters`, `not` holds `filter`, a value path
 * `emails[type eq "work"]` is `{ op: '[]', attrPath, valFilter }`. Precedence: not, and, or.
 */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';
export type CompValue = string | number | boolean | null;
export type Filter =
  | { op: CompareOp; attrPath: string; compValue: CompValue }
  | { op: 'pr'; attrPath: string }
  | { op: 'and' | 'or'; filters: Filter[] }
  | { op: 'not'; filter: Filter }
  | { op: '[]'; attrPath: string; valFilter: Filter };

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);
export const MAX_FILTER_LENGTH = 2000;
const MAX_DEPTH = 20;

type Token = { kind: 'word' | 'string' | 'number' | '(' | ')' | '[' | ']'; text: string; value?: CompValue; at: number };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '(' || c === ')' || c === '[' || c === ']') { tokens.push({ kind: c, text: c, at: i }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw invalidFilter(`unterminated string starting at ${i}`);
      const raw = input.slice(i, j + 1);
      let value: string;
      try {
        value = JSON.parse(raw) as string;
      } catch {
        throw invalidFilter(`invalid string ${raw}`);
      }
      tokens.push({ kind: 'string', text: raw, value, at: i });
      i = j + 1;
      continue;
    }
    const word = /^[A-Za-z0-9:._$+-]+/.exec(input.slice(i));
    if (!word) throw invalidFilter(`unexpected character "${c}" at ${i}`);
    const text = word[0];
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) tokens.push({ kind: 'number', text, value: Number(text), at: i });
    else tokens.push({ kind: 'word', text, at: i });
    i += text.length;
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined { return this.tokens[this.i]; }
  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw invalidFilter('the filter ends too early');
    return t;
  }
  private isWord(t: Token | undefined, w: string): boolean { return t?.kind === 'word' && t.text.toLowerCase() === w; }
  private expect(kind: Token['kind']): void {
    const t = this.next();
    if (t.kind !== kind) throw invalidFilter(`expected "${kind}" at ${t.at}, found "${t.text}"`);
  }

  parse(): Filter {
    const f = this.or(0);
    const rest = this.peek();
    if (rest) throw invalidFilter(`unexpected "${rest.text}" at ${rest.at}`);
    return f;
  }

  private or(depth: number): Filter {
    const filters = [this.and(depth)];
    while (this.isWord(this.peek(), 'or')) { this.i++; filters.push(this.and(depth)); }
    return filters.length === 1 ? filters[0]! : { op: 'or', filters };
  }

  private and(depth: number): Filter {
    const filters = [this.unary(depth)];
    while (this.isWord(this.peek(), 'and')) { this.i++; filters.push(this.unary(depth)); }
    return filters.length === 1 ? filters[0]! : { op: 'and', filters };
  }

  private unary(depth: number): Filter {
    if (depth > MAX_DEPTH) throw invalidFilter('the filter nests too deeply');
    const t = this.next();
    if (this.isWord(t, 'not') && this.peek()?.kind === '(') {
      this.i++;
      const filter = this.or(depth + 1);
      this.expect(')');
      return { op: 'not', filter };
    }
    if (t.kind === '(') {
      const f = this.or(depth + 1);
      this.expect(')');
      return f;
    }
    if (t.kind !== 'word') throw invalidFilter(`expected an attribute at ${t.at}, found "${t.text}"`);
    const attrPath = t.text;
    if (!/^([A-Za-z][A-Za-z0-9:._-]*:)?[A-Za-z$][A-Za-z0-9_$-]*(\.[A-Za-z$][A-Za-z0-9_$-]*)?$/.test(attrPath)) {
      throw invalidFilter(`"${attrPath}" is not an attribute path`);
    }
    if (this.peek()?.kind === '[') {
      this.i++;
      const valFilter = this.or(depth + 1);
      this.expect(']');
      return { op: '[]', attrPath, valFilter };
    }
    const opToken = this.next();
    const op = opToken.kind === 'word' ? opToken.text.toLowerCase() : '';
    if (op === 'pr') return { op: 'pr', attrPath };
    if (!COMPARE_OPS.has(op)) throw invalidFilter(`"${opToken.text}" at ${opToken.at} is not an operator (eq ne co sw ew gt lt ge le pr)`);
    const v = this.next();
    let compValue: CompValue;
    if (v.kind === 'string' || v.kind === 'number') compValue = v.value!;
    else if (this.isWord(v, 'true')) compValue = true;
    else if (this.isWord(v, 'false')) compValue = false;
    else if (this.isWord(v, 'null')) compValue = null;
    else throw invalidFilter(`expected a value (a "string", a number, true, false or null) at ${v.at}, found "${v.text}"`);
    return { op: op as CompareOp, attrPath, compValue };
  }
}

/** Parses a SCIM filter or throws a SCIM 400 `invalidFilter` saying where it went wrong. */
export function parseFilter(input: string): Filter {
  if (input.length > MAX_FILTER_LENGTH) throw invalidFilter(`the filter is longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens = tokenize(input);
  if (tokens.length === 0) throw invalidFilter('the filter is empty');
  return new Parser(tokens).parse();
}
