import { ALL_PERMISSIONS, type Permission } from './permissions.js';

/**
 * How far a role reaches inside the accounts it is granted in (P3):
 * - `account`: everything in the account (and its sub-accounts when granted at chain level);
 * - `assigned_clients`: only the clients assigned to the person (salespeople, in every list);
 * - `own_areas`: only people in the areas the person holds the role in (supervisors);
 * - `self`: only what concerns the person themselves (sitters, clients).
 */
export type RoleScope = 'account' | 'assigned_clients' | 'own_areas' | 'self';

export interface RoleDefinition {
  key: string;
  name: string;
  permissions: readonly Permission[];
  scope: RoleScope;
  /**
   * Privilege rank: nobody may impersonate someone of a higher rank (L7), nor grant a role above
   * their own. Custom roles get the rank of the highest built-in role whose permissions they cover.
   */
  rank: number;
}

const except = (...removed: Permission[]): Permission[] => ALL_PERMISSIONS.filter((p) => !removed.includes(p));

/** Built-in roles (P2). Keys are fixed; custom roles per tenant use other keys. */
export const BUILT_IN_ROLES = {
  owner: { key: 'owner', name: 'Owner', permissions: ALL_PERMISSIONS, scope: 'account', rank: 100 },
  admin: { key: 'admin', name: 'Administrator', permissions: ALL_PERMISSIONS, scope: 'account', rank: 90 },
  manager: {
    key: 'manager',
    name: 'Manager (dispatcher)',
    permissions: except('roles.manage', 'settings.manage', 'impersonate', 'people.archive', 'templates.manage'),
    scope: 'account',
    rank: 70,
  },
  standard: {
    key: 'standard',
    name: 'Standard user',
    // P3: standard users cannot edit action plans, delete contacts or change most settings.
    permissions: except(
      'action_plans.edit', 'contacts.delete', 'settings.manage', 'roles.manage', 'impersonate',
      'people.archive', 'people.deactivate', 'access.manage', 'templates.manage', 'accounts.manage',
      'logins.manage',
    ),
    scope: 'account',
    rank: 50,
  },
  supervisor: {
    key: 'supervisor',
    name: 'Supervisor',
    // P3: a supervisor may grant logins only to contacts in their own areas (scope).
    permissions: [
      'people.read', 'people.create', 'people.edit', 'logins.grant', 'visits.read', 'visits.manage',
      'audit.read', 'operations.read',
    ],
    scope: 'own_areas',
    rank: 45,
  },
  salesperson: {
    key: 'salesperson',
    name: 'Salesperson',
    // P3: sees only the clients assigned to them, in every list.
    permissions: ['people.read', 'people.create', 'people.edit', 'visits.read'],
    scope: 'assigned_clients',
    rank: 40,
  },
  staff: {
    key: 'staff',
    name: 'Staff (sitter, walker, cleaner, stylist)',
    permissions: ['visits.read_own', 'visits.complete_own'],
    scope: 'self',
    rank: 20,
  },
  client: { key: 'client', name: 'Client', permissions: ['visits.read_own', 'requests.submit_own'], scope: 'self', rank: 10 },
} as const satisfies Record<string, RoleDefinition>;

export type BuiltInRoleKey = keyof typeof BUILT_IN_ROLES;
export const BUILT_IN_ROLE_KEYS = Object.keys(BUILT_IN_ROLES) as BuiltInRoleKey[];
export const isBuiltInRole = (key: string): key is BuiltInRoleKey => Object.hasOwn(BUILT_IN_ROLES, key);

/** Roles that make a person a manager for the cascade table (event e-mail monitors, C3). */
export const MANAGER_ROLE_KEYS: readonly string[] = ['owner', 'admin', 'manager', 'supervisor'];
/** Roles that make a person a sitter for the cascade table (visits, default sitter, schedule e-mails). */
export const SITTER_ROLE_KEYS: readonly string[] = ['staff'];
