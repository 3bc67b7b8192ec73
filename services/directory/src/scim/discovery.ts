import { GROUP_SCHEMA, LIST_SCHEMA, USER_SCHEMA } from './user.js';
import { MAX_PAGE } from './users.js';

/** B3: what the service provider supports (RFC 7644 §5, RFC 7643 §5–7), for providers that discover. */
const DOCS = 'https://roster.dev/docs/scim';

export const serviceProviderConfig = (baseUrl: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  documentationUri: DOCS,
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: MAX_PAGE },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [{
    type: 'oauthbearertoken', name: 'SCIM token', primary: true,
    description: "A tenant's SCIM token (POST /scim-tokens), sent as Authorization: Bearer <token>",
  }],
  meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
});

const resourceType = (baseUrl: string, name: 'User' | 'Group') => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
  id: name, name, endpoint: `/${name}s`,
  description: name === 'User' ? "A tenant's staff member" : 'A Roster role; members hold it',
  schema: name === 'User' ? USER_SCHEMA : GROUP_SCHEMA,
  meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${name}` },
});

export const resourceTypes = (baseUrl: string) => [resourceType(baseUrl, 'User'), resourceType(baseUrl, 'Group')];

type Attr = Record<string, unknown>;
const attr = (name: string, extra: Attr = {}): Attr => ({
  name, type: 'string', multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...extra,
});
const multi = (name: string, types: string[]): Attr => attr(name, {
  type: 'complex', multiValued: true,
  subAttributes: [attr('value'), attr('type', { canonicalValues: types }), attr('primary', { type: 'boolean' })],
});

const schemas = (baseUrl: string) => [
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: USER_SCHEMA, name: 'User', description: "A tenant's staff member",
    attributes: [
      attr('userName', { required: true, uniqueness: 'server' }),
      attr('name', { type: 'complex', subAttributes: [attr('givenName', { required: true }), attr('familyName', { required: true }), attr('formatted', { mutability: 'readOnly' })] }),
      attr('displayName', { mutability: 'readOnly' }),
      multi('emails', ['work']),
      multi('phoneNumbers', ['mobile']),
      attr('active', { type: 'boolean' }),
      attr('groups', { type: 'complex', multiValued: true, mutability: 'readOnly', subAttributes: [attr('value', { mutability: 'readOnly' }), attr('display', { mutability: 'readOnly' })] }),
    ],
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${USER_SCHEMA}` },
  },
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: GROUP_SCHEMA, name: 'Group', description: 'A Roster role',
    attributes: [
      attr('displayName', { required: true, mutability: 'readOnly' }),
      attr('members', { type: 'complex', multiValued: true, subAttributes: [attr('value', { caseExact: true, mutability: 'immutable' }), attr('display', { mutability: 'readOnly' })] }),
    ],
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${GROUP_SCHEMA}` },
  },
];

export const schemaList = (baseUrl: string) => schemas(baseUrl);

export const listOf = (resources: unknown[]) => ({
  schemas: [LIST_SCHEMA], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources,
});
