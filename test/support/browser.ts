/**
 * Headless Chromium from Debian (/usr/bin/chromium, `apt-get install chromium`; .ci/run installs it)
 * driven by playwright-core, for the dashboard's browser tests and benchmark. Never downloads a
 * browser: when Chromium is missing the caller gets one clear error, not a silent skip.
 */
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.PANTHEON_CHROMIUM ?? '/usr/bin/chromium';

export interface Headless {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts Chromium with a fresh profile and no background networking; throws a clear error when it is not installed. */
export async function launchChromium(): Promise<Headless> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the dashboard's browser tests need it. Install it with \`apt-get install -y chromium\` (.ci/run does), or point PANTHEON_CHROMIUM at a Chromium binary.`);
  }
  // playwright-core gives every launch a fresh, empty profile of its own (removed on close).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  return {
    browser,
    context,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}
