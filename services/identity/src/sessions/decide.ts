/**
 * What a correct password opens (L3, L6, P5, P6), decided without I/O from the login and the
 * person's status. The caller has checked the password already; wrong passwords never get here.
 */
export interface LoginState {
  enabled: boolean;
  passwordTemporary: boolean;
  temporaryExpiresAt: number | null;
  passwordChangeRequired: boolean;
  /** The person's status in identity's projection; null when the directory has not announced them yet. */
  personStatus: string | null;
}

export type LoginDecision =
  | { outcome: 'refused'; reason: 'login_off' | 'temporary_expired' }
  | { outcome: 'session'; consumeTemporary: boolean; passwordChangeRequired: boolean };

export function decideLogin(state: LoginState, nowMs: number): LoginDecision {
  if (!state.enabled || state.personStatus !== 'active') return { outcome: 'refused', reason: 'login_off' };
  if (state.passwordTemporary) {
    if (state.temporaryExpiresAt !== null && state.temporaryExpiresAt <= nowMs) return { outcome: 'refused', reason: 'temporary_expired' };
    return { outcome: 'session', consumeTemporary: true, passwordChangeRequired: true };
  }
  return { outcome: 'session', consumeTemporary: false, passwordChangeRequired: state.passwordChangeRequired };
}
