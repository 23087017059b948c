import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's `chromium` package; playwright-core drives it (its own browser downloads are not used). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on a closed network: without the background-networking ones it tries to reach
 * Google (updates, sync, field trials) and logs failures. `--no-sandbox` because tests may run as root.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LAUNCH_TIMEOUT_MS = 30_000;

/** `false` when Chromium is installed; otherwise the reason, for node:test's `{ skip }` or `t.skip()`. */
export function chromiumSkipReason(): string | false {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return false;
  } catch {
    return `Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (Debian's package; \`npx playwright install\` is not used)`;
  }
}

export type LaunchedChromium = { browser: Browser; skip?: undefined } | { browser: undefined; skip: string };

/**
 * A headless Chromium, or `{ browser: undefined, skip }` when it is not installed. A Chromium that is installed
 * but does not start is an error, not a skip: a broken install should fail loudly, not hide the tests.
 * The caller must `browser.close()` (in a `finally`).
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const skip = chromiumSkipReason();
  if (skip) return { browser: undefined, skip };
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: LAUNCH_TIMEOUT_MS,
    });
    return { browser };
  } catch (err) {
    throw new Error(`${CHROMIUM_PATH} is installed but did not start: ${(err as Error).message}`);
  }
}
