import assert from 'node:assert/strict';

/**
 * A browser without a screen, for the relying-party tests: keeps cookies per origin, follows
 * redirects one by one (stopping at `stopAt`), reads the forms of a page and submits them.
 */
export class UserAgent {
  private readonly jar = new Map<string, Map<string, string>>();
  /** Every URL visited, in order (redirects included). */
  readonly visited: string[] = [];

  private cookieHeader(url: URL): string {
    return [...(this.jar.get(url.origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(url: URL, res: Response): void {
    const cookies = this.jar.get(url.origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(url.origin, cookies);
  }

  /** One request, no redirect followed. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ url: string; status: number; location: string | null; html: string; headers: Headers }> {
    const target = new URL(url);
    this.visited.push(target.href);
    const res = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(target), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    this.keep(target, res);
    const location = res.headers.get('location');
    return { url: target.href, status: res.status, location: location ? new URL(location, target).href : null, html: await res.text(), headers: res.headers };
  }

  /** Follows redirects from `url` until a page (a non-redirect) or a URL starting with `stopAt`. */
  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}, stopAt?: string) {
    let reply = await this.request(url, init);
    for (let hops = 0; reply.location && hops < 20; hops++) {
      if (stopAt && reply.location.startsWith(stopAt)) return { ...reply, url: reply.location, stopped: true };
      reply = await this.request(reply.location);
    }
    return { ...reply, stopped: false };
  }

  /** Submits the page's form (its action, its hidden fields, and `fields`). */
  async submit(page: { url: string; html: string }, fields: Record<string, string>, stopAt?: string) {
    const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(page.html);
    assert.ok(form, `a form on ${page.url}:\n${page.html.slice(0, 500)}`);
    const hidden = Object.fromEntries([...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, unescape(m[2]!)]));
    return this.go(new URL(unescape(form[1]!), page.url).href, { form: { ...hidden, ...fields } }, stopAt);
  }
}

const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
