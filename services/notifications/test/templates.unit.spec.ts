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
