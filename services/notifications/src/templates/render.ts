import Handlebars from 'handlebars';
import { DEFAULT_TEMPLATES, sampleVariables, type TemplateDefinition, type VariableSpec } from './defaults.js';

/** A template that cannot be used: an unknown variable, a helper, a syntax error (N3). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export interface TemplateText {
  subject: string | null;
  body: string;
}

export interface RenderedMessage {
  subject: string | null;
  body: string;
}

type AstNode = hbs.AST.Node & Record<string, unknown>;
type Scope = Record<string, VariableSpec>;
const BLOCK_HELPERS = new Set(['if', 'unless', 'each']);
const LOOP_DATA = new Set(['index', 'first', 'last', 'key']);

/**
 * Checks every name a template uses against the variables its definition declares, before any
 * rendering: handlebars' strict mode only sees the branches a render takes, so `{{#if x}}{{typo}}{{/if}}`
 * would slip through a sample render. Only `if`, `unless`, `each` and `plural` are allowed; no partials.
 */
export function checkVariables(source: string, variables: Record<string, VariableSpec>): void {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch (error) {
    throw new TemplateError(`syntax error: ${(error as Error).message.split('\n')[0]}`);
  }
  const scopes: Scope[] = [variables];
  const pathName = (p: hbs.AST.PathExpression) => p.original;
  const checkPath = (p: hbs.AST.PathExpression, inLoop: boolean) => {
    if (p.data) {
      if (!inLoop || !LOOP_DATA.has(p.parts[0] ?? '')) throw new TemplateError(`unknown variable @${p.parts.join('.')}`);
      return null;
    }
    const scope = scopes[scopes.length - 1 - p.depth];
    if (!scope) throw new TemplateError(`unknown variable ${pathName(p)}`);
    if (p.parts.length === 0) return null; // `this`
    if (p.parts.length > 1) throw new TemplateError(`unknown variable ${pathName(p)}`);
    const spec = scope[p.parts[0]!];
    if (spec === undefined) throw new TemplateError(`unknown variable ${pathName(p)}`);
    return spec;
  };
  const visit = (node: AstNode | null | undefined): void => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        for (const s of (node as unknown as hbs.AST.Program).body) visit(s as AstNode);
        return;
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement': {
        const m = node as unknown as hbs.AST.MustacheStatement;
        if (m.path.type === 'PathExpression' && (m.path as hbs.AST.PathExpression).original === PLURAL) return checkPlural(m, scopes, checkPath);
        if (m.params.length || (m.hash && m.hash.pairs.length) || m.path.type !== 'PathExpression') {
          throw new TemplateError(`helpers are not allowed: {{${(m.path as hbs.AST.PathExpression).original ?? '…'} …}}`);
        }
        const spec = checkPath(m.path as hbs.AST.PathExpression, scopes.length > 1);
        if (spec && typeof spec !== 'string') throw new TemplateError(`${(m.path as hbs.AST.PathExpression).original} is a list: use {{#each}}`);
        return;
      }
      case 'BlockStatement': {
        const b = node as unknown as hbs.AST.BlockStatement;
        const helper = (b.path as hbs.AST.PathExpression).original;
        if (!BLOCK_HELPERS.has(helper)) throw new TemplateError(`unknown block {{#${helper}}}: only if, unless and each`);
        const [param] = b.params;
        if (b.params.length !== 1 || param?.type !== 'PathExpression') throw new TemplateError(`{{#${helper}}} takes one variable`);
        const spec = checkPath(param as hbs.AST.PathExpression, scopes.length > 1);
        if (helper === 'each') {
          if (!spec || typeof spec === 'string') throw new TemplateError(`{{#each ${(param as hbs.AST.PathExpression).original}}} needs a list variable`);
          scopes.push(spec.each);
          visit(b.program as unknown as AstNode);
          scopes.pop();
        } else {
          visit(b.program as unknown as AstNode);
        }
        visit(b.inverse as unknown as AstNode);
        return;
      }
      default:
        throw new TemplateError(`${node.type.replace('Statement', '').toLowerCase()}s are not allowed`);
    }
  };
  visit(ast as unknown as AstNode);
}

/**
 * `{{plural count "visit" "visits"}}` → `1 visit`, `3 visits` (issue 16 item 12): the number and the
 * form English uses for it (Intl.PluralRules), so that no template says "1 visits".
 */
const PLURAL = 'plural';
const pluralRules = new Intl.PluralRules('en');

/** The word English uses for `count` of something: `one` for 1, `other` otherwise. */
export const pluralForm = (count: number, one: string, other: string): string => (pluralRules.select(count) === 'one' ? one : other);
/** `1 visit`, `3 visits`: what `{{plural}}` renders, for text built in code (a monitor's summary). */
export const plural = (count: number, one: string, other: string): string => `${count} ${pluralForm(count, one, other)}`;

function checkPlural(
  m: hbs.AST.MustacheStatement, scopes: Scope[], checkPath: (p: hbs.AST.PathExpression, inLoop: boolean) => VariableSpec | null,
): void {
  const [count, one, other] = m.params;
  const usage = '{{plural <number variable> "singular" "plural"}}';
  if (m.params.length !== 3 || (m.hash && m.hash.pairs.length) || count?.type !== 'PathExpression' || one?.type !== 'StringLiteral' || other?.type !== 'StringLiteral') {
    throw new TemplateError(`plural takes a number variable and two words: ${usage}`);
  }
  if (checkPath(count as hbs.AST.PathExpression, scopes.length > 1) !== 'number') {
    throw new TemplateError(`${(count as hbs.AST.PathExpression).original} is not a number variable: ${usage}`);
  }
}

const handlebars = Handlebars.create();
handlebars.registerHelper(PLURAL, (count: unknown, one: string, other: string) => plural(Number(count), one, other));

const compileOptions = { strict: true, knownHelpersOnly: true, knownHelpers: { [PLURAL]: true }, noEscape: true } as const;

// Compiling costs milliseconds of CPU, rendering microseconds: compiled templates are kept by
// their text (a tenant's edit is a new text), a few hundred at most.
const compiled = new Map<string, HandlebarsTemplateDelegate>();
function compile(source: string): HandlebarsTemplateDelegate {
  let template = compiled.get(source);
  if (!template) {
    template = handlebars.compile(source, compileOptions);
    if (compiled.size >= 500) compiled.delete(compiled.keys().next().value!);
    compiled.set(source, template);
  }
  return template;
}

/** Renders `text` with `values`: all or nothing (a missing value throws, nothing half-rendered is returned). */
export function renderTemplate(text: TemplateText, values: Record<string, unknown>): RenderedMessage {
  try {
    const body = compile(text.body)(values);
    const subject = text.subject === null ? null : compile(text.subject)(values).replace(/[\r\n]+/g, ' ').trim();
    return { subject, body };
  } catch (error) {
    throw new TemplateError(`cannot render: ${(error as Error).message.split('\n')[0]}`);
  }
}

export const MAX_TEMPLATE_BYTES = 64 * 1024;

/** What `PUT /templates/{key}` accepts: the declared variables only, and one successful render with samples. */
export function validateTemplate(def: TemplateDefinition, text: TemplateText): void {
  if (def.channel === 'email' && (text.subject === null || text.subject.trim() === '')) throw new TemplateError('an e-mail template needs a subject');
  if (text.subject !== null) checkVariables(text.subject, Object.fromEntries(Object.entries(def.variables).filter(([, s]) => typeof s === 'string')));
  checkVariables(text.body, def.variables);
  renderTemplate(text, sampleVariables(def));
}

export const templateDefinition = (key: string): TemplateDefinition | undefined => DEFAULT_TEMPLATES.get(key);

export const CLOCK: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };
export const DAY_AND_CLOCK: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short', ...CLOCK };

/** An instant as a person reads it in `timeZone` ("10:00", "Mon 8 Dec, 10:00"); the ISO text when the zone is unknown. */
export function localTime(iso: string, timeZone: string, options: Intl.DateTimeFormatOptions = CLOCK): string {
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone, ...options }).format(new Date(iso));
  } catch {
    return iso;
  }
}
