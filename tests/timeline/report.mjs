// report.mjs - opens a braid-dump --html page in headless Chromium and
// checks what a person would see: every chart (svg.chart) has drawn marks
// (elements of class "mark" with a size on screen), the page logs no error
// or warning and fetches nothing, and its full-page screenshot is not blank.
// With --want-failure, the charts over exchanges must show failure markers.
//
//   node report.mjs CHROMIUM REPORT.html OUTDIR [--want-failure]
//
// Prints the page's size, its render time and a verdict; exit 0 when
// everything holds, 1 when the page shows something else, 2 when it could
// not be run.  The render time is reported, not judged: wall clock on a
// shared machine is no test (see make bench for timing).
import { launch } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [chromium, report, outdir, flag] = process.argv.slice(2);
if (!chromium || !report || !outdir) {
  console.error('usage: node report.mjs CHROMIUM REPORT.html OUTDIR [--want-failure]');
  process.exit(2);
}
fs.mkdirSync(outdir, { recursive: true });
const base = path.basename(report, '.html');
const size = fs.statSync(report).size;
const { browser, page, problems } = await launch(chromium, 1000, 800);
const fails = [];
let renderMs = 0, ink = 0, charts = [];
try {
  // Everything the page asks for is a problem: it must need nothing.
  await page.setRequestInterception(true);
  const url = 'file://' + path.resolve(report);
  page.on('request', (r) => {
    if (r.url() !== url) problems.push(`request: ${r.url()}`);
    r.continue();
  });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  // Two animation frames: the page has been laid out and painted.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  renderMs = Date.now() - t0;
  charts = await page.evaluate(() =>
    [...document.querySelectorAll('svg.chart')].map((svg) => {
      const marks = [...svg.querySelectorAll('.mark')];
      const drawn = marks.filter((m) => {
        const b = m.getBBox();
        return b.width > 0 || b.height > 0 || m.tagName === 'circle';
      }).length;
      return { id: svg.id, marks: marks.length, drawn, failures: svg.querySelectorAll('.marker.failure').length };
    }),
  );
  const shot = path.join(outdir, `${base}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  // Not blank: the share of pixels that are not (nearly) white.
  const png = fs.readFileSync(shot).toString('base64');
  const view = await browser.newPage();
  ink = await view.evaluate(async (data) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + data;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) n++;
    return n / (d.length / 4);
  }, png);
} catch (e) {
  console.error(`${base}: could not open it in Chromium: ${e.message}`);
  await browser.close();
  process.exit(2);
}
await browser.close();

if (charts.length !== 8) fails.push(`${charts.length} charts, want 8`);
for (const c of charts) if (!c.drawn) fails.push(`chart ${c.id} has no drawn mark (${c.marks} marks)`);
if (flag === '--want-failure') {
  const over = charts.filter((c) => !['event-latency', 'exchange-latency', 'wait-distribution'].includes(c.id));
  for (const c of over) if (!c.failures) fails.push(`chart ${c.id} shows no failure marker`);
}
if (!(ink > 0.02)) fails.push(`the screenshot is blank (${(ink * 100).toFixed(2)}% ink)`);
for (const p of problems) fails.push(`console: ${p}`);
console.log(
  `${base}: ${(size / 1024).toFixed(0)} KiB, rendered in ${renderMs} ms, ${charts.length} charts with ` +
    `${charts.reduce((n, c) => n + c.drawn, 0)} drawn marks, screenshot ${(ink * 100).toFixed(1)}% ink`,
);
for (const f of fails) console.log(`${base}: ${f}`);
console.log(`${base}: ${fails.length ? 'FAIL' : 'ok'}`);
process.exit(fails.length ? 1 : 0);
