// What PATCH needs to know of a resource's attributes; its own file so that user.ts (which
// defines the User's) and patch.ts (which applies operations) need not import each other.
export interface ResourceShape {
  /** Stored attributes, lower-case name → canonical name. */
  attributes: Record<string, string>;
  /** Sub-attribute names, lower-case → canonical. */
  subAttributes: Record<string, string>;
  multiValued: ReadonlySet<string>;
  complex: ReadonlySet<string>;
  readOnly: ReadonlySet<string>;
}
