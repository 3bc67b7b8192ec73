import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { parse as referenceParse } from 'scim2-parse-filter';
import { ScimError } from '../src/scim/errors.js';
import { parseFilter } from '../src/scim/filter.js';

// B3: SCIM filters parse into the same tree as the scim2-parse-filter package's parser.
const corpus = [
  'userName eq "bjensen@example.com"',
  'userName Eq "b\\"jensen"',
  'name.familyName co "O\'Malley"',
  'userName sw "J"',
  'title pr',
  'meta.lastModified gt "2011-05-13T04:42:34Z"',
  'meta.lastModified ge "2011-05-13T04:42:34Z" and meta.lastModified le "2026-05-13T04:42:34Z"',
  'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"',
  'active eq true',
  'active eq false or externalId eq null',
  'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
  'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
  'emails[type eq "work" and value co "@example.com"]',
  'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
  'a eq 1 and b eq 2 and c eq 3 or d eq -4.5',
  'a eq 1 or b eq 2 and c eq 3',
  'not (a eq 1) and b ew "z"',
  'x eq 1e3',
];

describe('SCIM filter parsing (B3, cross-checked with scim2-parse-filter)', () => {
  for (const f of corpus) {
    it(`parses ${f} as the reference does`, () => {
      assert.deepEqual(parseFilter(f), referenceParse(f));
    });
  }

  for (const bad of ['', 'userName', 'userName eq', 'userName equals "x"', 'userName eq "x" and', '(userName eq "x"', 'userName eq "x")', 'userName eq bare', 'emails[type eq "work"', 'userName eq "unterminated']) {
    it(`refuses ${JSON.stringify(bad)} with 400 invalidFilter`, () => {
      assert.throws(() => parseFilter(bad), (e: unknown) => e instanceof ScimError && e.status === 400 && e.scimType === 'invalidFilter');
    });
  }
});
