/**
 * Identity's hosted pages (issue 17), rendered on the server: plain HTML that works without
 * JavaScript, labelled fields, one stylesheet from identity itself (the Content-Security-Policy
 * allows nothing else), readable on a phone.
 */
const escapeHtml = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The stylesheet every page links (`/assets/roster.css`). */
export const STYLESHEET = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f4f5f7}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 0}fieldset{border:0;padding:0;margin:.75rem 0}legend{font-weight:600}label.inline{display:inline;font-weight:400;margin:0 .75rem 0 .25rem}p.tenant{margin:0 0 1.25rem;color:#57606a}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input[type=text],input[type=password]{width:100%;padding:.6rem;font-size:1rem;border:1px solid #8c959f;border-radius:.35rem}
button,.button{display:inline-block;margin-top:1.25rem;padding:.65rem 1.1rem;font-size:1rem;border:0;border-radius:.35rem;background:#0b5cad;color:#fff;text-decoration:none;cursor:pointer}
.error{padding:.6rem .75rem;border-radius:.35rem;background:#ffebe9;color:#82071e}.hint{color:#57606a;font-size:.9rem}
@media (max-width:30rem){main{margin:0;border-radius:0;min-height:100vh}}
`;

/** The headers every page carries: nothing but our own stylesheet may load; no framing; no caching. */
export const PAGE_HEADERS = (formTargets: readonly string[] = []): Record<string, string> => ({
  'content-security-policy': [
    "default-src 'none'", "style-src 'self'", "img-src 'self'", "base-uri 'none'", "frame-ancestors 'none'",
    `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
});

function layout(title: string, body: string, tenantName?: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/assets/roster.css"></head>
<body><main><h1>${escapeHtml(title)}</h1>${tenantName ? `<p class="tenant">${escapeHtml(tenantName)}</p>` : ''}
${body}</main></body></html>`;
}

const errorBox = (message: string | null | undefined) => (message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '');

export interface SignInView {
  action: string;
  csrf: string;
  tenantName: string | null;
  clientName: string | null;
  username?: string;
  error?: string | null;
}

/** Sign in (L8: one message for every wrong username or password). */
export function signInPage(v: SignInView): string {
  return layout('Sign in', `${v.clientName ? `<p>to continue to ${escapeHtml(v.clientName)}</p>` : ''}${errorBox(v.error)}
<form method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" required maxlength="254" value="${escapeHtml(v.username ?? '')}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required maxlength="256">
<button type="submit">Sign in</button>
</form>`, v.tenantName);
}

export interface NewPasswordView {
  action: string;
  csrf: string;
  tenantName: string | null;
  username: string;
  error?: string | null;
}

/** First sign-in with a temporary password (L3): choose one's own before going on. */
export function newPasswordPage(v: NewPasswordView): string {
  return layout('Choose your password', `<p>You signed in as <strong>${escapeHtml(v.username)}</strong> with a temporary password. Choose your own to continue.</p>${errorBox(v.error)}
<form method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
<input type="text" name="username" autocomplete="username" value="${escapeHtml(v.username)}" hidden readonly>
<label for="newPassword">New password</label><input type="password" id="newPassword" name="newPassword" autocomplete="new-password" required minlength="12" maxlength="256">
<p class="hint">At least 12 characters; not your username.</p>
<label for="confirmPassword">Repeat it</label><input type="password" id="confirmPassword" name="confirmPassword" autocomplete="new-password" required maxlength="256">
<button type="submit">Save and continue</button>
</form>`, v.tenantName);
}

/** Errors of the protocol (a bad redirect_uri among them): shown here, never sent to an unverified address. */
export function errorPage(out: { error: string; error_description?: string | undefined }): string {
  return layout('Something went wrong', `<p class="error" role="alert">${escapeHtml(out.error_description ?? out.error)}</p>
<p class="hint">Error code: ${escapeHtml(out.error)}. Go back to the application and try again.</p>`);
}

/** A page of our own for a problem on a hosted page (an expired sign-in, a missing CSRF token). */
export function messagePage(title: string, message: string): string {
  return layout(title, `<p>${escapeHtml(message)}</p>`);
}

/** RP-initiated logout: oidc-provider's form (with its own CSRF token), confirmed by a button. */
export function logoutPage(form: string): string {
  return layout('Sign out', `${form}<p>Do you want to sign out of Roster?</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
}

export function loggedOutPage(): string {
  return layout('Signed out', '<p>You are signed out. You can close this window.</p>');
}

export interface InvitationView {
  action: string;
  csrf: string;
  tenantName: string | null;
  accountName: string | null;
  roleName: string;
  invitee: { firstName: string; lastName: string; phone: string | null };
  error?: string | null;
  /** Values typed before an error, so nobody types them twice (never the password). */
  values?: Record<string, string>;
}

/** P8: the page the invitation link opens — register as a new person, or sign in and be added. */
export function invitationPage(v: InvitationView): string {
  const val = (k: string, fallback = '') => escapeHtml(v.values?.[k] ?? fallback);
  const where = [...new Set([v.accountName, v.tenantName].filter(Boolean))].join(', ');
  return layout('You are invited', `<p>You are invited to join ${escapeHtml(where || 'the team')} as <strong>${escapeHtml(v.roleName)}</strong>.</p>${errorBox(v.error)}
<h2>New here? Register</h2>
<form method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}"><input type="hidden" name="intent" value="register">
<label for="firstName">First name</label><input type="text" id="firstName" name="firstName" autocomplete="given-name" required maxlength="100" value="${val('firstName', v.invitee.firstName)}">
<label for="lastName">Last name</label><input type="text" id="lastName" name="lastName" autocomplete="family-name" required maxlength="100" value="${val('lastName', v.invitee.lastName)}">
<label for="phone">Mobile phone</label><input type="text" id="phone" name="phone" autocomplete="tel" inputmode="tel" required maxlength="40" value="${val('phone', v.invitee.phone ?? '')}">
<p class="hint">In international form, such as +44 7911 123456.</p>
<label for="newPassword">Choose a password</label><input type="password" id="newPassword" name="password" autocomplete="new-password" required minlength="12" maxlength="256">
<p class="hint">At least 12 characters.</p>
<p><input type="checkbox" id="acceptTerms" name="acceptTerms" value="yes" required> <label for="acceptTerms" class="inline">I accept the terms of use</label></p>
<fieldset><legend>May we send you news and offers?</legend>
<input type="radio" id="marketingYes" name="marketingConsent" value="yes"${v.values?.marketingConsent === 'yes' ? ' checked' : ''}> <label for="marketingYes" class="inline">Yes</label>
<input type="radio" id="marketingNo" name="marketingConsent" value="no"${v.values?.marketingConsent === 'yes' ? '' : ' checked'}> <label for="marketingNo" class="inline">No</label>
</fieldset>
<button type="submit">Register</button>
</form>
<h2>Already have a login? Sign in to join</h2>
<form method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}"><input type="hidden" name="intent" value="sign-in">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" required maxlength="254" value="${val('username')}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required maxlength="256">
<button type="submit">Sign in and join</button>
</form>`, v.tenantName);
}

/** After registering: the username to sign in with from now on. */
export function registeredPage(firstName: string, username: string, tenantName: string | null): string {
  return layout('Welcome', `<p>Welcome, ${escapeHtml(firstName)}. Your account is ready.</p>
<p>Your username is <strong id="username">${escapeHtml(username)}</strong>: sign in with it and the password you chose, in your organisation's applications.</p>`, tenantName);
}

export function joinedPage(tenantName: string | null): string {
  return layout('You have joined', '<p>Your login now also opens this account. Sign in as usual.</p>', tenantName);
}

/** The page the credentials and new-password e-mails link to (`/account`): set one's own password (L3, L5). */
export function accountSignInPage(v: { action: string; csrf: string; username?: string; error?: string | null }): string {
  return layout('Sign in to Roster', `<p>Sign in with the username and the password from your e-mail to choose your own password.</p>${errorBox(v.error)}
<form method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" required maxlength="254" value="${escapeHtml(v.username ?? '')}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required maxlength="256">
<button type="submit">Sign in</button>
</form>`);
}

export function passwordSetPage(username: string, tenantName: string | null): string {
  return layout('Your password is set', `<p>From now on, sign in as <strong id="username">${escapeHtml(username)}</strong> with the password you chose, in your organisation's applications.</p>`, tenantName);
}

export function alreadySetPage(username: string, tenantName: string | null): string {
  return layout('You are all set', `<p>Your username <strong>${escapeHtml(username)}</strong> and your password work. Open your organisation's application to continue.</p>`, tenantName);
}
