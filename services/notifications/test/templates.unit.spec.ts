import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DEFAULT_TEMPLATES, sampleVariables } from '../src/templates/defaults.js';
import { checkVariables, renderTemplate, TemplateError, validateTemplate } from '../src/templates/render.js';

const def = (key: string) => DEFAULT_TEMPLATES.get(key)!;

// N3: a template may use only its declared variables; rendering is all or nothing.
describe('templates (N3)', () => {
  it('every default template passes its own validation', () => {
    for (const d of DEFAULT_TEMPLATES.values()) validateTemplate(d, { subject: d.subject, body: d.body });
  });

  it('given the credentials template, when an override names an unknown variable, then it is refused with the name', () => {
    assert.throws(() => validateTemplate(def('staff_login_credentials'), { subject: 'Hi', body: 'Hello {{firstName}}, {{pasword}}' }),
      (e: unknown) => e instanceof TemplateError && /unknown variable pasword/.test(e.message));
  });

  it('sees an unknown variable hidden in a branch a sample render would not take', () => {
    assert.throws(() => checkVariables('{{#if expiresAt}}{{typo}}{{/if}}', def('new_password').variables), /unknown variable typo/);
    assert.throws(() => checkVariables('{{#unless username}}x{{else}}{{nope}}{{/unless}}', def('new_password').variables), /unknown variable nope/);
  });

  it('checks the fields of list items and allows @index and ../ inside each', () => {
    const vars = def('daily_schedule').variables;
    checkVariables('{{#each visits}}{{@index}} {{clientName}} for {{../firstName}}{{/each}}', vars);
    assert.throws(() => checkVariables('{{#each visits}}{{clientNam}}{{/each}}', vars), /unknown variable clientNam/);
    assert.throws(() => checkVariables('{{visits}}', vars), /is a list/);
    assert.throws(() => checkVariables('{{#each firstName}}x{{/each}}', vars), /needs a list/);
  });

  it('refuses helpers, partials, unknown blocks and syntax errors', () => {
    const vars = def('access_granted').variables;
    assert.throws(() => checkVariables('{{lookup firstName 0}}', vars), /helpers are not allowed/);
    assert.throws(() => checkVariables('{{> header}}', vars), /partials are not allowed/);
    assert.throws(() => checkVariables('{{#with firstName}}x{{/with}}', vars), /unknown block/);
    assert.throws(() => checkVariables('{{#if firstName}}x', vars), /syntax error/);
    assert.throws(() => checkVariables('{{@root.firstName}}', vars), /unknown variable @root/);
  });

  it('issue 16 item 12: every default template says "1 visit", "2 visits": no plural noun after the number 1', () => {
    for (const d of DEFAULT_TEMPLATES.values()) {
      const numbers = Object.entries(d.variables).filter(([, spec]) => spec === 'number').map(([name]) => name);
      for (const n of [1, 2]) {
        const values = { ...sampleVariables(d), ...Object.fromEntries(numbers.map((name) => [name, n])) };
        const { subject, body } = renderTemplate(d, values);
        const text = `${subject ?? ''}\n${body}`;
        if (n === 1) assert.doesNotMatch(text, /\b1 (visits|monitors|e-mail monitors|event e-mail monitors)\b/, `${d.key}: ${text}`);
        else assert.doesNotMatch(text, /\b2 (visit|monitor|e-mail monitor|event e-mail monitor)\b(?!s)/, `${d.key}: ${text}`);
      }
    }
    assert.equal(renderTemplate(def('visits_need_sitter'), { firstName: 'Olive', count: 1, sitterName: 'Sam' }).subject, '1 visit needs a sitter');
    assert.equal(renderTemplate(def('visits_need_sitter'), { firstName: 'Olive', count: 0, sitterName: 'Sam' }).subject, '0 visits need a sitter');
  });

  it('plural takes a number variable and two words; anything else is refused before use', () => {
    const vars = def('visits_need_sitter').variables;
    checkVariables('{{plural count "visit" "visits"}}', vars);
    assert.throws(() => checkVariables('{{plural sitterName "visit" "visits"}}', vars), /not a number variable/);
    assert.throws(() => checkVariables('{{plural count "visit"}}', vars), /plural takes a number variable and two words/);
    assert.throws(() => checkVariables('{{plural nope "visit" "visits"}}', vars), /unknown variable nope/);
  });

  it('an e-mail template needs a subject; an SMS one has none', () => {
    assert.throws(() => validateTemplate(def('access_revoked'), { subject: ' ', body: 'x' }), /needs a subject/);
    validateTemplate(def('invitation_sms'), { subject: null, body: '{{firstName}}: {{link}}' });
  });

  it('renders plain text without HTML escaping, and throws instead of returning a half-rendered message', () => {
    const d = def('access_granted');
    const out = renderTemplate({ subject: d.subject, body: d.body }, { firstName: 'Zoë & Co <x>', accountName: 'North', roleKey: 'manager' });
    assert.match(out.body, /Hello Zoë & Co <x>,/);
    assert.equal(out.subject, 'You have access to North');
    assert.throws(() => renderTemplate({ subject: d.subject, body: d.body }, { firstName: 'Zoë' }), TemplateError);
  });

  it('sample variables cover every declared variable', () => {
    const samples = sampleVariables(def('daily_schedule'));
    assert.deepEqual(Object.keys(samples).sort(), Object.keys(def('daily_schedule').variables).sort());
  });
});
