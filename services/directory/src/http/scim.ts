import { Router, type NextFunction, type Request, type Response } from 'express';
import { DomainError } from '@roster/platform/errors';
import { statusOf } from '@roster/platform/http/problem';
import type { DirectoryContext } from '../context.js';
import { listOf, resourceTypes, schemaList, serviceProviderConfig } from '../scim/discovery.js';
import { invalidValue, ScimError } from '../scim/errors.js';
import { createGroup, getGroup, groupsAreRoles, listGroups, patchGroup, replaceGroup } from '../scim/groups.js';
import { parsePatchRequest } from '../scim/patch.js';
import { authenticateScim, type ScimClient } from '../scim/tokens.js';
import { createUser, deleteUser, getUser, listUsers, MAX_PAGE, patchUser, replaceUser, asScimError } from '../scim/users.js';
import { scimTokensRouter } from './scim-tokens.js';

const SCIM_TYPE = 'application/scim+json';
const OPERATION_HEADER = 'x-roster-operation-id';

const send = (res: Response, status: number, body: unknown) => {
  res.status(status).type(SCIM_TYPE).send(JSON.stringify(body));
};
const baseUrlOf = (req: Request) => `${req.protocol}://${req.get('host')}/scim/v2`;
const clientOf = (res: Response) => res.locals.scim as ScimClient;

function integerParam(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value)) throw invalidValue(`${name} must be an integer`);
  return Number(value);
}

/** `startIndex` (1-based; below 1 counts as 1) and `count` (0 = totals only; at most MAX_PAGE). */
function pageOf(req: Request) {
  const q = req.query as Record<string, unknown>;
  const filter = q.filter;
  if (filter !== undefined && typeof filter !== 'string') throw new ScimError(400, 'filter must be given once', 'invalidFilter');
  return {
    startIndex: Math.max(1, integerParam(q.startIndex, 'startIndex', 1)),
    count: Math.min(MAX_PAGE, Math.max(0, integerParam(q.count, 'count', MAX_PAGE))),
    filter: filter || undefined,
  };
}

/** `attributes` / `excludedAttributes` (top-level names; id and schemas always come back). */
function projection(req: Request): (resource: Record<string, unknown>) => Record<string, unknown> {
  const names = (v: unknown) => (typeof v === 'string' && v ? v.split(',').map((s) => s.trim().split('.')[0]!.replace(/^urn:.*:/i, '').toLowerCase()) : null);
  const only = names((req.query as Record<string, unknown>).attributes);
  const without = names((req.query as Record<string, unknown>).excludedAttributes);
  return (resource) => Object.fromEntries(Object.entries(resource).filter(([k]) => {
    const key = k.toLowerCase();
    if (key === 'id' || key === 'schemas') return true;
    if (only) return only.includes(key);
    return !without?.includes(key);
  }));
}
const wantsMembers = (req: Request) => {
  const q = req.query as Record<string, unknown>;
  const listed = (v: unknown) => typeof v === 'string' && v.toLowerCase().split(',').map((s) => s.trim()).includes('members');
  return q.attributes !== undefined ? listed(q.attributes) : !listed(q.excludedAttributes);
};

/**
 * B3: SCIM 2.0 under /scim/v2 for a tenant's identity provider (Okta, Entra ID …), authenticated
 * with the tenant's SCIM token; every answer and error is `application/scim+json`. Deactivating
 * (`active=false`), reactivating and deleting (archive) run the lifecycle cascade; the operation id
 * comes back in `x-roster-operation-id` (follow it with GET /operations/{id}).
 */
export function scimRouter(ctx: DirectoryContext): Router {
  const scim = Router();
  const auth = async (req: Request, res: Response, next: NextFunction) => {
    res.locals.scim = await authenticateScim(ctx.prisma, req.get('authorization'));
    next();
  };
  const withOperations = (res: Response, ids: readonly (string | null)[]) => {
    const present = ids.filter((id): id is string => id !== null);
    if (present.length) res.setHeader(OPERATION_HEADER, present.join(', '));
  };

  // Discovery describes no tenant data: open to anyone, as providers probe it before configuring.
  scim.get('/ServiceProviderConfig', (req, res) => send(res, 200, serviceProviderConfig(baseUrlOf(req))));
  scim.get('/ResourceTypes', (req, res) => send(res, 200, listOf(resourceTypes(baseUrlOf(req)))));
  scim.get('/ResourceTypes/:id', (req, res) => {
    const found = resourceTypes(baseUrlOf(req)).find((r) => r.id === req.params.id);
    if (!found) throw new ScimError(404, `ResourceType ${req.params.id} not found`);
    send(res, 200, found);
  });
  scim.get('/Schemas', (req, res) => send(res, 200, listOf(schemaList(baseUrlOf(req)))));
  scim.get('/Schemas/:id', (req, res) => {
    const found = schemaList(baseUrlOf(req)).find((s) => s.id === req.params.id);
    if (!found) throw new ScimError(404, `Schema ${req.params.id} not found`);
    send(res, 200, found);
  });

  scim.get('/Users', auth, async (req, res) => {
    const list = await listUsers(ctx.prisma, clientOf(res), pageOf(req), baseUrlOf(req));
    send(res, 200, { ...list, Resources: list.Resources.map(projection(req)) });
  });
  scim.get('/Users/:id', auth, async (req, res) => {
    send(res, 200, projection(req)(await getUser(ctx.prisma, clientOf(res), req.params.id as string, baseUrlOf(req))));
  });
  scim.post('/Users', auth, async (req, res) => {
    const { user, operationId } = await createUser(ctx.prisma, clientOf(res), req.body, baseUrlOf(req));
    ctx.relay.nudge();
    withOperations(res, [operationId]);
    res.location(user.meta.location);
    send(res, 201, user);
  });
  scim.put('/Users/:id', auth, async (req, res) => {
    const { user, operationId } = await replaceUser(ctx.prisma, clientOf(res), req.params.id as string, req.body, baseUrlOf(req));
    ctx.relay.nudge();
    withOperations(res, [operationId]);
    send(res, 200, user);
  });
  scim.patch('/Users/:id', auth, async (req, res) => {
    const operations = parsePatchRequest(req.body);
    const { user, operationId } = await patchUser(ctx.prisma, clientOf(res), req.params.id as string, operations, baseUrlOf(req));
    ctx.relay.nudge();
    withOperations(res, [operationId]);
    send(res, 200, user);
  });
  scim.delete('/Users/:id', auth, async (req, res) => {
    const operationId = await deleteUser(ctx.prisma, clientOf(res), req.params.id as string);
    ctx.relay.nudge();
    withOperations(res, [operationId]);
    res.status(204).end();
  });

  scim.get('/Groups', auth, async (req, res) => {
    const list = await listGroups(ctx.prisma, clientOf(res), { ...pageOf(req), withMembers: wantsMembers(req) }, baseUrlOf(req));
    send(res, 200, { ...list, Resources: list.Resources.map(projection(req)) });
  });
  scim.get('/Groups/:id', auth, async (req, res) => {
    send(res, 200, projection(req)(await getGroup(ctx.prisma, clientOf(res), req.params.id as string, wantsMembers(req), baseUrlOf(req))));
  });
  scim.patch('/Groups/:id', auth, async (req, res) => {
    const operations = parsePatchRequest(req.body);
    const { group, operationIds } = await patchGroup(ctx.prisma, clientOf(res), req.params.id as string, operations, baseUrlOf(req));
    ctx.relay.nudge();
    withOperations(res, operationIds);
    send(res, 200, group);
  });
  scim.put('/Groups/:id', auth, async (req, res) => {
    const { group, operationIds } = await replaceGroup(ctx.prisma, clientOf(res), req.params.id as string, req.body, baseUrlOf(req));
    ctx.relay.nudge();
    withOperations(res, operationIds);
    send(res, 200, group);
  });
  scim.post('/Groups', auth, async (req, res) => {
    const { group, operationIds } = await createGroup(ctx.prisma, clientOf(res), req.body, baseUrlOf(req));
    ctx.relay.nudge();
    withOperations(res, operationIds);
    res.location(group.meta.location);
    send(res, 201, group);
  });
  scim.delete('/Groups/:id', auth, () => { throw groupsAreRoles(); });

  scim.use((req, _res, next) => next(new ScimError(404, `no SCIM endpoint ${req.method} ${req.path}`)));
  scim.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const converted = asScimError(error);
    const scimError = converted instanceof ScimError ? converted
      : converted instanceof DomainError ? new ScimError(statusOf(converted), converted.detail ?? converted.title)
      : null;
    if (!scimError) {
      ctx.logger.error({ err: error, method: req.method, path: req.path }, 'SCIM request failed');
      return send(res, 500, new ScimError(500, 'the request failed; see the service logs with its correlation id').toJSON());
    }
    if (scimError.status === 401) res.setHeader('www-authenticate', 'Bearer realm="roster-scim"');
    send(res, scimError.status, scimError.toJSON());
  });

  return Router().use(scimTokensRouter(ctx)).use('/scim/v2', scim);
}
