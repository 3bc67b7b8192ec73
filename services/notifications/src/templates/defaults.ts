/**
 * The default templates (N3) and the variables each one declares. A tenant may override the
 * subject and body of any of them (`PUT /templates/{key}`); an override may use only the declared
 * variables. Bodies are plain text, rendered with handlebars in strict mode (no HTML escaping).
 */
export type Channel = 'email' | 'sms';

/** A variable: a scalar, or a list whose items have the named fields (`{{#each visits}}`). */
export type VariableSpec = 'string' | 'number' | { each: Record<string, 'string' | 'number'> };

export interface TemplateDefinition {
  key: string;
  channel: Channel;
  description: string;
  variables: Record<string, VariableSpec>;
  /** Null for SMS. */
  subject: string | null;
  body: string;
}

// Credentials may go before the person is known here (on Kafka another topic): the greeting then goes without a name.
const credentials = {
  firstName: 'string', lastName: 'string', username: 'string', password: 'string', expiresAt: 'string', loginUrl: 'string',
} as const satisfies Record<string, VariableSpec>;

const definitions: TemplateDefinition[] = [
  {
    key: 'client_login_credentials', channel: 'email', description: 'L4: login details of a client', variables: credentials,
    subject: 'Your login',
    body: 'Hello{{#if firstName}} {{firstName}}{{/if}},\n\nyou can now log in at {{loginUrl}}\n\nUsername: {{username}}\nPassword: {{password}}\n\n{{#if expiresAt}}This password works once and until {{expiresAt}}; you will choose your own when you first log in.\n{{/if}}',
  },
  {
    key: 'staff_login_credentials', channel: 'email', description: 'L4: login details of a staff member', variables: credentials,
    subject: 'Your staff login',
    body: 'Hello{{#if firstName}} {{firstName}}{{/if}},\n\nyour staff login is ready: {{loginUrl}}\n\nUsername: {{username}}\nPassword: {{password}}\n\n{{#if expiresAt}}This password works once and until {{expiresAt}}; you will choose your own when you first log in.\n{{/if}}',
  },
  {
    key: 'new_password', channel: 'email', description: 'L5: a new temporary password', variables: credentials,
    subject: 'Your new password',
    body: 'Hello{{#if firstName}} {{firstName}}{{/if}},\n\na new password was generated for {{username}}: {{password}}\n\nLog in at {{loginUrl}}{{#if expiresAt}} before {{expiresAt}}{{/if}}; you will then choose your own.\n',
  },
  {
    key: 'credentials_sent_elsewhere', channel: 'email',
    description: 'L4, L5: told at the address on file that login details went to another address',
    variables: { firstName: 'string', username: 'string', sentTo: 'string' },
    subject: 'Login details for your account were sent elsewhere',
    body: 'Hello {{firstName}},\n\nlogin details for your account {{username}} were just sent to {{sentTo}}, not to this address.\n\nIf you did not ask for this, tell your administrator at once: whoever reads {{sentTo}} can sign in as you.\n',
  },
  {
    key: 'access_granted', channel: 'email', description: 'N3: access to an account granted',
    variables: { firstName: 'string', accountName: 'string', roleKey: 'string' },
    subject: 'You have access to {{accountName}}',
    body: 'Hello {{firstName}},\n\nyou now have access to {{accountName}} as {{roleKey}}.\n',
  },
  {
    key: 'access_granted_many', channel: 'email',
    description: 'N3, P4: access to several accounts granted at once (one e-mail; the first 50 listed)',
    variables: { firstName: 'string', accountCount: 'number', accounts: { each: { accountName: 'string', roleKey: 'string' } }, moreAccounts: 'number' },
    subject: 'You have access to {{accountCount}} accounts',
    body: 'Hello {{firstName}},\n\nyou now have access to {{accountCount}} accounts:\n{{#each accounts}}- {{accountName}} as {{roleKey}}\n{{/each}}{{#if moreAccounts}}… and {{moreAccounts}} more.\n{{/if}}',
  },
  {
    key: 'access_revoked', channel: 'email', description: 'N3: access to an account removed',
    variables: { firstName: 'string', accountName: 'string', roleKey: 'string' },
    subject: 'Your access to {{accountName}} was removed',
    body: 'Hello {{firstName}},\n\nyour access to {{accountName}} (as {{roleKey}}) was removed.\n',
  },
  {
    key: 'invitation_email', channel: 'email', description: 'P8: an invitation by e-mail',
    variables: { firstName: 'string', lastName: 'string', link: 'string', accountName: 'string', roleKey: 'string', expiresAt: 'string' },
    subject: "You're invited to {{accountName}}",
    body: 'Hello {{firstName}},\n\nyou are invited to join {{accountName}} as {{roleKey}}.\nAccept here: {{link}}\n\nThe link works until {{expiresAt}}.\n',
  },
  {
    key: 'invitation_sms', channel: 'sms', description: 'P8: an invitation by SMS',
    variables: { firstName: 'string', lastName: 'string', link: 'string', accountName: 'string', roleKey: 'string', expiresAt: 'string' },
    subject: null,
    body: 'Hi {{firstName}}, you are invited to {{accountName}}: {{link}}',
  },
  {
    key: 'visits_need_sitter', channel: 'email', description: 'Cascade: visits that lost their sitter, to the managers',
    variables: { firstName: 'string', count: 'number', sitterName: 'string' },
    subject: '{{plural count "visit needs" "visits need"}} a sitter',
    body: 'Hello {{firstName}},\n\n{{plural count "visit needs" "visits need"}} a sitter: {{sitterName}} is no longer available.\n',
  },
  {
    key: 'daily_schedule', channel: 'email', description: 'N2: the automatic schedule e-mail to a sitter',
    variables: {
      firstName: 'string', date: 'string', timeZone: 'string', visitCount: 'number',
      visits: { each: { startsAt: 'string', endsAt: 'string', clientName: 'string', service: 'string' } },
    },
    subject: 'Your schedule for {{date}}',
    body: 'Hello {{firstName}},\n\nyour {{plural visitCount "visit" "visits"}} on {{date}} ({{timeZone}}):\n{{#each visits}}- {{startsAt}}–{{endsAt}} {{clientName}} {{service}}\n{{/each}}',
  },
  {
    key: 'daily_reminder', channel: 'email', description: 'N2: the daily reminder a person opted in to',
    variables: { firstName: 'string', date: 'string', link: 'string' },
    subject: 'Your Roster reminder for {{date}}',
    body: 'Hello {{firstName}},\n\nthis is your daily reminder for {{date}}: {{link}}\n',
  },
  {
    key: 'monitors_need_review', channel: 'email', description: "Cascade: a deactivated manager's event e-mail monitors, to the owners",
    variables: { firstName: 'string', managerName: 'string', monitorCount: 'number' },
    subject: '{{plural monitorCount "e-mail monitor needs" "e-mail monitors need"}} review',
    body: 'Hello {{firstName}},\n\n{{managerName}} was deactivated; their {{plural monitorCount "event e-mail monitor is" "event e-mail monitors are"}} paused until you review them.\n',
  },
  {
    key: 'client_request', channel: 'email', description: 'N2, S3: a client asked for visits; to the holders of the monitors for request.submitted',
    variables: {
      firstName: 'string', clientName: 'string', asked: 'string', note: 'string', link: 'string',
      visits: { each: { startsAt: 'string', endsAt: 'string', service: 'string' } },
    },
    subject: 'Client request from {{clientName}}',
    body: 'Hello {{firstName}},\n\n{{clientName}} asked for {{asked}}:\n{{#each visits}}- {{startsAt}}–{{endsAt}} {{service}}\n{{/each}}{{#if note}}\nNote: {{note}}\n{{/if}}\nApprove or decline it: {{link}}\n',
  },
  {
    key: 'request_approved', channel: 'email', description: 'S3: to the client, their request was approved',
    variables: { firstName: 'string', asked: 'string', visits: { each: { startsAt: 'string', endsAt: 'string', service: 'string' } } },
    subject: 'Your request was approved',
    body: 'Hello {{firstName}},\n\nyour request for {{asked}} was approved.\n{{#each visits}}- {{startsAt}}–{{endsAt}} {{service}}\n{{/each}}',
  },
  {
    key: 'request_declined', channel: 'email', description: 'S3: to the client, their request was declined, with the reason',
    variables: { firstName: 'string', asked: 'string', reason: 'string' },
    subject: 'Your request was declined',
    body: 'Hello {{firstName}},\n\nyour request for {{asked}} was declined: {{reason}}.\n',
  },
  {
    key: 'monitor_event', channel: 'email', description: 'N2: an event e-mail monitor fired',
    variables: { firstName: 'string', eventType: 'string', summary: 'string' },
    subject: 'Roster: {{eventType}}',
    body: 'Hello {{firstName}},\n\n{{summary}}\n',
  },
];

export const DEFAULT_TEMPLATES: ReadonlyMap<string, TemplateDefinition> = new Map(definitions.map((d) => [d.key, d]));
export const TEMPLATE_KEYS = definitions.map((d) => d.key);

/** Sample values for every declared variable, to render a template once before it is accepted. */
export function sampleVariables(def: TemplateDefinition): Record<string, unknown> {
  const scalar = (t: 'string' | 'number', name: string) => (t === 'number' ? 3 : `sample ${name}`);
  return Object.fromEntries(Object.entries(def.variables).map(([name, spec]) => [
    name,
    typeof spec === 'string' ? scalar(spec, name) : [Object.fromEntries(Object.entries(spec.each).map(([f, t]) => [f, scalar(t, f)]))],
  ]));
}
