// For a browser test file that talks to the reference upload server: the server (examples/server, on a
// free port that stays the same for the whole file, since IndexedDB origins include the port) and
// Chromium, started in beforeAll and closed in afterAll. Use env.srv and env.browser inside the tests.
import { launchBrowser } from './browser.mjs';
import { startBrowserServer } from '../node/upload/uploader.helpers.mjs';

/**
 * @param {object} serverOptions startBrowserServer's options ({ port, faults, routes, logRequests })
 * @param {object} browserOptions launchBrowser's options ({ args } for Chromium flags)
 */
export function useServerAndBrowser(serverOptions = {}, browserOptions = {}) {
  const env = { srv: null, browser: null };
  beforeAll(async () => {
    env.srv = await startBrowserServer(serverOptions);
    env.browser = await launchBrowser(browserOptions);
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.srv?.close();
  });
  return env;
}
