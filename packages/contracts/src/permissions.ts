/**
 * The permission catalogue (P2, P3). Built-in and custom roles are sets of these keys; every
 * service authorizes locally from the token's roles and this catalogue (rule 8).
 */
export const PERMISSIONS = {
  'people.read': 'See people (clients and staff) of the accounts one has access to',
  'people.create': 'Add clients and staff',
  'people.edit': "Edit people's profiles",
  'people.deactivate': 'Deactivate and reactivate people (P5)',
  'people.archive': 'Archive and restore users (P6)',
  'contacts.delete': 'Delete client contacts',
  'clients.assign': 'Assign clients to a staff member',
  'logins.grant': 'Grant logins and generate new passwords (L1, L5)',
  'logins.manage': 'Switch logins off and on (L6)',
  'access.manage': 'Grant and remove access to accounts (P4)',
  'roles.manage': 'Define custom roles',
  'invitations.manage': 'Invite people, resend, withdraw and edit invitations (P8)',
  'impersonate': 'Log in as another user of the tenant (L7)',
  'audit.read': 'Read the audit trail (P9)',
  'operations.read': 'Read operation status of cascades (B4)',
  'settings.manage': 'Change account settings',
  'action_plans.edit': 'Edit action plans',
  'accounts.manage': 'Create and edit accounts (branches, client accounts, areas)',
  'visits.read': 'See all visits of the accounts one has access to',
  'visits.read_own': 'See one\'s own visits (a sitter\'s schedule, a client\'s calendar)',
  'visits.manage': 'Create, assign and reassign visits, schedules and default sitters (S2)',
  'visits.complete_own': 'Mark one\'s own visits complete (S2)',
  'requests.submit_own': 'Ask for visits, a change or a cancellation for oneself (S3, clients)',
  'templates.manage': 'Edit message templates (N3)',
  'subscriptions.manage': "Manage automatic e-mails and event e-mail monitors (N2)",
  'messages.read': 'Read the delivery log (N1)',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];
export const isPermission = (p: string): p is Permission => Object.hasOwn(PERMISSIONS, p);
