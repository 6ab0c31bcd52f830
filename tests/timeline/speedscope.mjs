// speedscope.mjs - loads a Chrome Trace Event file into speedscope in
// headless Chromium, as a person would (the Browse button), and checks what
// the viewer made of it: speedscope's own export of the profiles it built
// (one per track) must hold the expected number of profiles, each one flat
// (at most one frame open at any time: depth 1) and each with frames.  It
// also saves a screenshot of every profile.
//
//   node speedscope.mjs CHROMIUM SPEEDSCOPE_DIR TRACE.json OUTDIR TRACKS
//
// Prints one line per profile and a verdict; exit 0 when everything holds,
// 1 when the viewer shows something else, 2 when it could not be run.
import { launch } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [chromium, viewer, trace, outdir, tracksArg] = process.argv.slice(2);
if (!chromium || !viewer || !trace || !outdir || !tracksArg) {
  console.error('usage: node speedscope.mjs CHROMIUM SPEEDSCOPE_DIR TRACE.json OUTDIR TRACKS');
  process.exit(2);
}
const tracks = Number(tracksArg);
fs.mkdirSync(outdir, { recursive: true });
const base = path.basename(trace, '.json');

const { browser, page, problems } = await launch(chromium);
let failed = false;
try {
  const cdp = await page.createCDPSession();
  const downloads = fs.mkdtempSync(path.join(outdir, '.download-'));
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
  const saved = new Promise((resolve) => cdp.on('Browser.downloadProgress', (e) => e.state === 'completed' && resolve()));

  await page.goto('file://' + path.resolve(viewer, 'index.html'));
  const input = await page.waitForSelector('input[type=file]');
  await input.uploadFile(path.resolve(trace));
  // The flame chart is drawn on canvases once the profile is imported.
  await page.waitForFunction(() => document.title.includes('.json'), { timeout: 60000 });
  await page.waitForSelector('canvas');
  await new Promise((r) => setTimeout(r, 500));

  // What speedscope built: its export of every profile.
  await page.keyboard.down('Control');
  await page.keyboard.press('s');
  await page.keyboard.up('Control');
  await saved;
  const file = fs.readdirSync(downloads).find((f) => f.endsWith('.json'));
  const exported = JSON.parse(fs.readFileSync(path.join(downloads, file), 'utf8'));
  fs.renameSync(path.join(downloads, file), path.join(outdir, base + '.speedscope.json'));
  fs.rmSync(downloads, { recursive: true });

  const frames = exported.shared.frames;
  const profiles = exported.profiles;
  for (const [i, p] of profiles.entries()) {
    let depth = 0, max = 0, opened = 0;
    for (const e of p.events) {
      if (e.type === 'O') {
        depth++;
        opened++;
        if (depth > max) max = depth;
      } else if (e.type === 'C') depth--;
    }
    const names = [...new Set(p.events.filter((e) => e.type === 'O').map((e) => frames[e.frame].name.replace(/ \{.*/, '')))].sort();
    const longest = Math.max(0, ...p.events.map((e) => frames[e.frame].name.length));
    console.log(`${base}: profile ${i + 1} "${p.name}": ${opened} slices, depth ${max}, longest name ${longest}, names ${names.join(', ')}`);
    if (max !== 1 || opened === 0) failed = true;
    // One screenshot per profile: speedscope shows one at a time ("n": next).
    await page.screenshot({ path: path.join(outdir, `${base}-${i + 1}.png`) });
    if (i + 1 < profiles.length) {
      await page.keyboard.press('n');
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  if (profiles.length !== tracks) {
    console.log(`${base}: ${profiles.length} profiles, want one per track: ${tracks}`);
    failed = true;
  }
} catch (e) {
  console.error(`${base}: could not load it into speedscope: ${e.message}`);
  await browser.close();
  process.exit(2);
}
await browser.close();
// speedscope warns on the console about frames it had to end or close
// itself: a sign of slices it could not nest.
for (const p of problems.slice(0, 5)) console.log(`${base}: console: ${p}`);
if (problems.length > 5) console.log(`${base}: console: ${problems.length - 5} more`);
if (problems.length) failed = true;
console.log(`${base}: ${failed ? 'FAIL' : 'ok'}: speedscope shows ${tracks} flat tracks`);
process.exit(failed ? 1 : 0);
