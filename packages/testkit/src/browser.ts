/**
 * Debian's headless Chromium for UI tests and UI benchmarks (playwright-core drives it; no
 * browser is ever downloaded). Override the binary with `CHROMIUM_PATH`.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Options for playwright-core's `chromium.launch` / `launchPersistentContext`: headless, no
 * sandbox (CI runs as root), and none of the background traffic a first start makes.
 *
 * @example
 * const context = await chromium.launchPersistentContext(dir, { ...headlessChromium, viewport: { width: 1280, height: 720 } });
 */
export const headlessChromium = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
