// A real browser for console tests: Debian's chromium (hack/apt.sh) driven by playwright-core.
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.BOOTPLANE_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  // Root in a container has no user namespaces for Chromium's sandbox.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
