import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (installed by .ci/run with apt-get): playwright-core drives it, nothing is downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Runs `walk`; on failure, a screenshot of the page as it was goes to tests/e2e/.artifacts/ and its path into the error. */
export async function withScreenshots<T>(page: Page, name: string, walk: () => Promise<T>): Promise<T> {
  try {
    return await walk();
  } catch (error) {
    const dir = new URL('../.artifacts/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    const file = new URL(`${name}-${Date.now()}.png`, dir);
    await page.screenshot({ path: file.pathname, fullPage: true }).catch(() => undefined);
    (error as Error).message += `\n  screenshot: ${file.pathname} (at ${page.url()})`;
    throw error;
  }
}
