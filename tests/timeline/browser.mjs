// browser.mjs - headless Chromium (Debian's) through puppeteer-core, which
// downloads no browser of its own.  Collects console errors and warnings,
// page errors and failed requests as "problems".
import puppeteer from 'puppeteer-core';

export async function launch(chromium, width = 1280, height = 720) {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // Root in CI and containers: Chromium's sandbox needs user namespaces.
    args: ['--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--allow-file-access-from-files', `--window-size=${width},${height}`],
  });
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const problems = [];
  page.on('console', (m) => {
    // The software GL renderer's own performance notes are not the page's.
    if (m.text().includes('GL Driver Message') || m.text().includes('software WebGL')) return;
    if (m.type() === 'error' || m.type() === 'warn' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  return { browser, page, problems };
}
