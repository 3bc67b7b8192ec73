import type { SqlTx } from '@roster/platform/db/database';
import { DEFAULT_TEMPLATES, type TemplateDefinition } from './defaults.js';
import type { TemplateText } from './render.js';

export interface EffectiveTemplate extends TemplateText {
  definition: TemplateDefinition;
  overridden: boolean;
}

/** The tenant's version of a template, or the default. */
export async function effectiveTemplate(tx: SqlTx, tenantId: string, key: string): Promise<EffectiveTemplate | null> {
  const definition = DEFAULT_TEMPLATES.get(key);
  if (!definition) return null;
  const [row] = await tx.$queryRawUnsafe<{ subject: string | null; body: string }[]>(
    'SELECT subject, body FROM message_template WHERE tenant_id = $1::uuid AND key = $2', tenantId, key,
  );
  return row
    ? { definition, overridden: true, subject: definition.channel === 'sms' ? null : row.subject, body: row.body }
    : { definition, overridden: false, subject: definition.subject, body: definition.body };
}
