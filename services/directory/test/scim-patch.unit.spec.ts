import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { scimPatch, type ScimPatchOperation } from 'scim-patch';
import { ScimError } from '../src/scim/errors.js';
import { applyPatch, parsePatchRequest, type PatchOperation } from '../src/scim/patch.js';
import { PATCH_SCHEMA, USER_SCHEMA, USER_SHAPE, userModelOf } from '../src/scim/user.js';

const user = () => ({
  schemas: [USER_SCHEMA],
  id: '5b0b0c0e-0000-4000-8000-000000000001',
  externalId: 'okta-00u1',
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Barbara Jensen' },
  displayName: 'Barbara Jensen',
  emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
  phoneNumbers: [{ value: '+1 415 555 0100', type: 'mobile', primary: true }],
  active: true,
  meta: { resourceType: 'User', created: new Date('2026-01-01T00:00:00Z'), lastModified: new Date('2026-01-01T00:00:00Z') },
});
const writable = (r: Record<string, unknown>) => {
  const { userName, externalId, name, emails, phoneNumbers, active } = r;
  return { userName, externalId, name, emails, phoneNumbers, active };
};

// B3: PATCH results cross-checked with the scim-patch package on the operations providers send.
const cases: [string, PatchOperation[]][] = [
  ['Okta deactivation: replace without path', [{ op: 'replace', value: { active: false } }]],
  ['replace active by path', [{ op: 'replace', path: 'active', value: false }]],
  ['replace a name part', [{ op: 'replace', path: 'name.givenName', value: 'Babs' }]],
  ['replace the name object (merged)', [{ op: 'replace', path: 'name', value: { familyName: 'Jensen-Smith' } }]],
  ['Entra e-mail change through a filter path', [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'babs@example.com' }]],
  ['replace every e-mail', [{ op: 'replace', path: 'emails', value: [{ value: 'b@example.org', type: 'work', primary: true }] }]],
  ['add a phone', [{ op: 'add', path: 'phoneNumbers', value: [{ value: '+1 415 555 0199', type: 'work' }] }]],
  ['remove the phones', [{ op: 'remove', path: 'phoneNumbers' }]],
  ['remove a filtered e-mail', [{ op: 'remove', path: 'emails[type eq "work"]' }]],
  ['replace userName and externalId', [{ op: 'replace', path: 'userName', value: 'barbara@example.com' }, { op: 'replace', path: 'externalId', value: 'okta-00u2' }]],
  ['add without path', [{ op: 'add', value: { externalId: 'x-9', active: false } }]],
  ['several operations in order', [
    { op: 'replace', path: 'name.familyName', value: 'Doe' },
    { op: 'replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 415 555 0142' },
    { op: 'replace', path: 'active', value: false },
  ]],
];

describe('SCIM PATCH on a User (B3, cross-checked with scim-patch)', () => {
  for (const [name, ops] of cases) {
    it(`${name}: same result as scim-patch`, () => {
      const mine = applyPatch(user(), ops, USER_SHAPE);
      const reference = scimPatch(user() as never, ops as ScimPatchOperation[], { mutateDocument: false }) as unknown as Record<string, unknown>;
      assert.deepEqual(writable(mine), writable(reference));
    });
  }

  it('leaves the original untouched and refuses the whole request when one operation is bad (atomic)', () => {
    const original = user();
    assert.throws(
      () => applyPatch(original, [{ op: 'replace', path: 'active', value: false }, { op: 'replace', path: 'id', value: 'x' }], USER_SHAPE),
      (e: unknown) => e instanceof ScimError && e.status === 400 && e.scimType === 'mutability',
    );
    assert.equal(original.active, true);
  });

  it('Entra: "Replace" with active "False" deactivates; extension attributes are ignored', () => {
    const ops = parsePatchRequest({
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Dogs' },
        { op: 'Add', path: 'title', value: 'Walker' },
      ],
    });
    const patched = applyPatch(user(), ops, USER_SHAPE);
    assert.equal(userModelOf(patched).active, false);
    assert.deepEqual(writable(patched), { ...writable(user()), active: 'False' });
  });

  it('a name given without path keeps the parts not given (RFC 7644 §3.5.2; scim-patch would drop them)', () => {
    const patched = applyPatch(user(), [{ op: 'add', value: { name: { givenName: 'Babs' } } }], USER_SHAPE);
    assert.deepEqual(patched.name, { givenName: 'Babs', familyName: 'Jensen', formatted: 'Barbara Jensen' });
  });

  it('Entra: adding emails[type eq "work"].value when there is no work e-mail creates it', () => {
    const start = { ...user(), emails: [] };
    const patched = applyPatch(start, [{ op: 'add', path: 'emails[type eq "work"].value', value: 'new@example.com' }], USER_SHAPE);
    assert.deepEqual(patched.emails, [{ type: 'work', value: 'new@example.com' }]);
    assert.equal(userModelOf(patched).email, 'new@example.com');
  });

  for (const [what, body, scimType] of [
    ['no PatchOp schema', { Operations: [{ op: 'add', path: 'title', value: 'x' }] }, 'invalidSyntax'],
    ['no operations', { schemas: [PATCH_SCHEMA], Operations: [] }, 'invalidSyntax'],
    ['an unknown op', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'move', path: 'userName', value: 'x' }] }, 'invalidSyntax'],
    ['remove without path', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove' }] }, 'noTarget'],
    ['a malformed path', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'emails[type eq ', value: 'x' }] }, 'invalidPath'],
    ['a malformed filter in a path', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'emails[type equals "work"].value', value: 'x' }] }, 'invalidFilter'],
    ['a read-only attribute', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'meta.created', value: 'x' }] }, 'mutability'],
  ] as const) {
    it(`refuses ${what} (${scimType})`, () => {
      assert.throws(() => applyPatch(user(), parsePatchRequest(body), USER_SHAPE), (e: unknown) => e instanceof ScimError && e.scimType === scimType);
    });
  }
});
