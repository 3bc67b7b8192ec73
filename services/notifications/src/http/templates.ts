import { Router } from 'express';
import { z } from 'zod';
import { hasPermission, principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { forbidden, HttpProblem, notFound } from '@roster/platform/http/problem';
import type { NotificationsContext } from '../context.js';
import { DEFAULT_TEMPLATES, TEMPLATE_KEYS, type TemplateDefinition } from '../templates/defaults.js';
import { MAX_TEMPLATE_BYTES, TemplateError, validateTemplate } from '../templates/render.js';
import { effectiveTemplate, type EffectiveTemplate } from '../templates/store.js';

const body = z.strictObject({ subject: z.string().nullable().optional(), body: z.string().min(1) });
const keyParam = z.string().regex(/^[a-z_]{1,64}$/);

const dto = (t: EffectiveTemplate) => ({
  key: t.definition.key, channel: t.definition.channel, description: t.definition.description,
  variables: t.definition.variables, subject: t.subject, body: t.body, overridden: t.overridden,
});

const definitionOr404 = (key: string): TemplateDefinition => {
  const def = DEFAULT_TEMPLATES.get(key);
  if (!def) throw notFound(`template ${key}`);
  return def;
};

/** N3: the tenant's templates (defaults unless overridden) and their overrides. */
export function templatesRouter(ctx: NotificationsContext): Router {
  const router = Router();
  const db = ctx.prisma;
  const canRead = (req: Parameters<typeof principalOf>[0]) => {
    const me = principalOf(req);
    if (!hasPermission(me, 'templates.manage') && !hasPermission(me, 'messages.read')) throw forbidden('reading templates needs templates.manage or messages.read');
    return me;
  };

  router.get('/templates', ctx.auth.required, async (req, res) => {
    const me = canRead(req);
    const items = await Promise.all(TEMPLATE_KEYS.map((k) => effectiveTemplate(db, me.tenantId, k)));
    res.json({ items: items.map((t) => dto(t!)), nextCursor: null });
  });

  router.get('/templates/:key', ctx.auth.required, async (req, res) => {
    const me = canRead(req);
    const key = parse(keyParam, req.params.key, 'params');
    definitionOr404(key);
    res.json(dto((await effectiveTemplate(db, me.tenantId, key))!));
  });

  router.put('/templates/:key', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'templates.manage');
    const key = parse(keyParam, req.params.key, 'params');
    const def = definitionOr404(key);
    const input = parse(body, req.body);
    const subject = def.channel === 'sms' ? null : (input.subject ?? null);
    const size = Buffer.byteLength(input.body) + Buffer.byteLength(subject ?? '');
    if (size > MAX_TEMPLATE_BYTES) {
      throw new HttpProblem(413, 'template-too-large', 'Template too large', `a template may hold at most ${MAX_TEMPLATE_BYTES} bytes; this one has ${size}`);
    }
    try {
      validateTemplate(def, { subject, body: input.body });
    } catch (error) {
      if (error instanceof TemplateError) {
        throw new HttpProblem(400, 'invalid-template', 'Invalid template', error.message, { variables: Object.keys(def.variables) });
      }
      throw error;
    }
    await db.$executeRawUnsafe(
      `INSERT INTO message_template (tenant_id, key, subject, body, updated_by) VALUES ($1::uuid, $2, $3, $4, $5::uuid)
       ON CONFLICT (tenant_id, key) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      me.tenantId, key, subject, input.body, me.personId,
    );
    res.json(dto((await effectiveTemplate(db, me.tenantId, key))!));
  });

  /** Back to the default. */
  router.delete('/templates/:key', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'templates.manage');
    const key = parse(keyParam, req.params.key, 'params');
    definitionOr404(key);
    await db.$executeRawUnsafe('DELETE FROM message_template WHERE tenant_id = $1::uuid AND key = $2', me.tenantId, key);
    res.status(204).end();
  });
  return router;
}
