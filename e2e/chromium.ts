/**
 * How the browser tests and the web benchmark start Debian's Chromium: headless, and quiet (the
 * machine may have no internet, and Chromium's background connections, updates, sync and QUIC
 * probes, would only be refused noisily).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
