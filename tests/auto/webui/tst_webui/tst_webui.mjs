// tst_webui: the built-in web page (resources/webui/) in headless Chromium against the real
// hermes-server, as a person would use it: sign-in (a wrong key, then the right one), rows
// for the downloads already there, progress that moves, actions (one row and bulk) that
// round-trip, the accessibility check (axe-core), the server killed (Reconnecting with the
// attempt number) and restarted (Connected, every row once, no full reload, the renewed
// token used), the key revoked (back to sign-in), HERMES_WEBUI=0. Screenshots go to the
// screenshot dir. Every wait is bounded. Ends with "N passed, N failed".
//
// One process drives it all — the file server, hermes-server and the browser — so the steps
// need no handshake between programs.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { createServer as createTcpServer, connect as tcpConnect } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { cutPercentages, cutReasons, indeterminateBars, overflowingCells, indicatorOutOfView } from './layout.mjs';

const { values: opt } = parseArgs({ options: {
  server: { type: 'string' }, modules: { type: 'string' }, chromium: { type: 'string' },
  screenshots: { type: 'string' }, source: { type: 'string' },
} });
const require = createRequire(join(resolve(opt.modules), 'noop.js'));
const puppeteer = require('puppeteer-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const KEY = 'webui-test-key';
const started = Date.now();
let passed = 0, failed = 0;
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);
function check(ok, what, detail = '') {
  if (ok) { passed++; log(`ok - ${what}`); } else { failed++; log(`FAIL - ${what} ${detail}`); }
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(fn, what, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e.message; }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}
function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// ---- a local file server: deterministic bytes at a set rate, with Range ----

function startFileServer(port) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const size = Number(url.searchParams.get('size') || 1024);
    const rate = Number(url.searchParams.get('rate') || 0); // bytes/s, 0: at once
    const status = Number(url.searchParams.get('status') || 200); // 503: a busy host, retried
    if (status !== 200) { res.writeHead(status, { 'Content-Length': 0 }); res.end(); return; }
    let start = 0;
    const range = /bytes=(\d+)-/.exec(req.headers.range || '');
    if (range && Number(range[1]) < size) start = Number(range[1]);
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': size - start, 'Accept-Ranges': 'bytes' };
    if (start) headers['Content-Range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(start ? 206 : 200, headers);
    const chunk = Buffer.alloc(rate ? Math.max(1, Math.floor(rate / 10)) : 65536, 0x61);
    let sent = start;
    const send = () => {
      if (res.destroyed) return;
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        const more = res.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        if (rate) { setTimeout(send, 100); return; }
        if (!more) { res.once('drain', send); return; }
      }
      res.end();
    };
    send();
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

// ---- a TCP proxy whose streams can be frozen: bytes stop, nothing closes ----

function startFreezingProxy(listenPort, targetPort) {
  const pairs = new Set();
  const server = createTcpServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    const pair = { client, upstream, stream: false };
    pairs.add(pair);
    client.on('data', (bytes) => { if (bytes.includes('/api/v1/events/stream')) pair.stream = true; });
    client.pipe(upstream);
    upstream.pipe(client);
    const forget = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
  });
  return new Promise((resolve) => server.listen(listenPort, '127.0.0.1', () => resolve({
    // The open streams go silent (a dead path: no FIN, no RST); everything else passes.
    freeze() {
      for (const pair of pairs) if (pair.stream) { pair.upstream.unpipe(pair.client); pair.upstream.pause(); pairs.delete(pair); }
    },
    close() { server.close(); },
  })));
}

// ---- hermes-server ----

const dataDir = mkdtempSync(join(tmpdir(), 'tst_webui-'));
const keyFile = join(dataDir, 'keys');
writeFileSync(keyFile, `${KEY}\n`);
let hermes = null;
let port = 0;
let mainPage = null; // for the state dump when a step fails

async function startHermes(extraEnv = {}, p = port) {
  const env = {
    ...process.env,
    HERMES_HOST: '127.0.0.1', HERMES_PORT: String(p), HERMES_DATA_DIR: join(dataDir, `data-${p}`),
    HERMES_API_KEY_FILE: keyFile, HERMES_SSE_HEARTBEAT_INTERVAL: '2', HERMES_LOG_LEVEL: process.env.HERMES_WEBUI_TEST_LOG || 'warning',
    HERMES_DISK_WARNING_MB: '0', ...extraEnv,
  };
  const child = spawn(opt.server, [], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${p}`;
  await waitFor(async () => (await fetch(`${base}/livez`)).ok, 'hermes-server to answer', 30000);
  return child;
}
function stopHermes(child, signal = 'SIGKILL') {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill(signal);
    setTimeout(resolve, 10000);
  });
}
async function rest(method, path, body) {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`, {
    method, headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return r.status === 204 ? null : r.json();
}

// ---- the page ----

const rowIds = (page) => page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.dataset.id));
const connState = (page) => page.$eval('#conn', (e) => ({ state: e.dataset.state, text: e.textContent.replace(/\s+/g, ' ').trim() }));
const rowStatus = (page, id) => page.$eval(`tr[data-id="${id}"]`, (tr) => tr.dataset.status).catch(() => null);
const screenshots = [];
async function shoot(page, name, width, height) {
  await page.setViewport({ width, height });
  await sleep(300);
  const path = join(opt.screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  screenshots.push(path);
}

async function main() {
  port = await freePort();
  const filePort = await freePort();
  const files = await startFileServer(filePort);
  const fileUrl = (name, size, rate = 0) => `http://127.0.0.1:${filePort}/${name}?size=${size}&rate=${rate}`;
  // Streams rotated every 6 s: planned ends the page must renew without showing an outage.
  const mainEnv = { HERMES_SSE_CONNECTION_TIMEOUT: '6' };
  hermes = await startHermes(mainEnv);
  const base = `http://127.0.0.1:${port}`;

  // The static files: redirect, headers, ETag, 304.
  const root = await fetch(`${base}/`, { redirect: 'manual' });
  check(root.status === 302 && root.headers.get('location') === 'ui/', '/ redirects to ui/', `${root.status} ${root.headers.get('location')}`);
  const index = await fetch(`${base}/ui/`);
  const csp = index.headers.get('content-security-policy') || '';
  check(index.ok && csp.includes("default-src 'self'") && !csp.includes('unsafe-inline'), 'the page has a strict CSP', csp);
  const js = await fetch(`${base}/ui/main.js`);
  check(js.headers.get('content-type')?.startsWith('text/javascript'), 'modules are served as JavaScript', js.headers.get('content-type'));
  const again = await fetch(`${base}/ui/main.js`, { headers: { 'If-None-Match': js.headers.get('etag') } });
  check(again.status === 304, 'a matching If-None-Match gets 304', String(again.status));
  const names = readdirSync(opt.source);
  const total = names.reduce((n, f) => n + statSync(join(opt.source, f)).size, 0);
  const gzipped = names.reduce((n, f) => n + gzipSync(readFileSync(join(opt.source, f)), { level: 9 }).length, 0);
  log(`page files: ${names.length}, ${total} bytes (${(total / 1024).toFixed(1)} KiB) uncompressed, ${gzipped} bytes gzipped (each file, gzip -9)`);
  // The README states these figures: a bound well above them and well under the 200 KB.
  check(total < 100 * 1000 && gzipped < 35 * 1000, `the page is small (${(total / 1000).toFixed(1)} kB, ${(gzipped / 1000).toFixed(1)} kB gzipped)`);

  // Downloads already there before the page opens.
  const done = await rest('POST', 'downloads', { url: fileUrl('small.bin', 4096), filename: 'small.bin' });
  const slow = await rest('POST', 'downloads', { url: fileUrl('slow.bin', 12 << 20, 160 << 10), filename: 'slow.bin' });
  const other = await rest('POST', 'downloads', { url: fileUrl('other.bin', 12 << 20, 64 << 10), filename: 'other.bin', priority: 5 });
  await waitFor(async () => (await rest('GET', `downloads/${done.id}`)).status === 'completed', 'small.bin to complete');

  const browser = await puppeteer.launch({
    executablePath: opt.chromium, headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=en-US'],
  });
  try {
    const page = await browser.newPage();
    mainPage = page;
    await page.setViewport({ width: 1280, height: 800 });
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|net::ERR/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    const streamUrls = [];
    page.on('request', (r) => { if (r.url().includes('/api/v1/events/stream')) streamUrls.push(new URL(r.url())); });

    await page.goto(`${base}/ui/?tokenTtl=60`, { waitUntil: 'load' });
    await page.waitForSelector('#signin-view:not([hidden])', { timeout: 10000 });

    // A wrong key: a clear message, still at sign-in.
    await page.type('#key', 'not-a-key');
    await page.click('#signin-form button[type=submit]');
    const wrong = await waitFor(() => page.$eval('#signin-error', (e) => e.textContent), 'the wrong-key message');
    check(/rejected/i.test(wrong), 'a wrong key gets a clear message', wrong);

    // The right key: the queue, connected, with the three downloads.
    await page.$eval('#key', (e) => { e.value = ''; });
    await page.type('#key', KEY);
    await page.keyboard.press('Enter'); // the keyboard alone signs in
    const signedInAt = Date.now();
    await waitFor(async () => (await connState(page)).state === 'connected', 'Connected');
    // Every state the indicator shows from here on.
    await page.evaluate(() => {
      window.statesSeen = [];
      new MutationObserver(() => window.statesSeen.push(document.getElementById('conn').dataset.state))
        .observe(document.getElementById('conn'), { attributes: true, attributeFilter: ['data-state'] });
    });
    const ids = await waitFor(async () => { const r = await rowIds(page); return r.length === 3 && r; }, 'three rows');
    check([done.id, slow.id, other.id].every((id) => ids.includes(id)), 'rows appear for the existing downloads', JSON.stringify(ids));
    check(await page.evaluate(() => sessionStorage.getItem('hermes.apiKey') !== null && localStorage.getItem('hermes.apiKey') === null),
      'the key is kept in sessionStorage only (remember not ticked)');

    // Progress moves without a reload.
    const pct = () => page.$eval(`tr[data-id="${slow.id}"] progress`, (p) => p.value);
    await waitFor(async () => (await rowStatus(page, slow.id)) === 'downloading', 'slow.bin downloading');
    const p1 = await pct();
    const p2 = await waitFor(async () => { const p = await pct(); return p > p1 && p; }, 'progress to move', 10000);
    check(p2 > p1, `progress updates live (${p1} → ${p2} %)`);
    const speed = await page.$eval(`tr[data-id="${slow.id}"] td.speed`, (e) => e.textContent);
    check(speed !== '—', 'a speed is shown while connected', speed);

    // One action, then a bulk action, each round-trips through the server and its events.
    await page.click(`tr[data-id="${other.id}"] button[data-action=pause]`);
    await waitFor(async () => (await rowStatus(page, other.id)) === 'paused', 'other.bin paused on the page');
    check((await rest('GET', `downloads/${other.id}`)).status === 'paused', 'pause round-trips (the server has it paused)');
    await page.focus(`tr[data-id="${other.id}"] button[data-action=resume]`);
    await page.keyboard.press('Enter');
    await waitFor(async () => (await rowStatus(page, other.id)) !== 'paused', 'other.bin resumed');
    check(true, 'resume round-trips (pressed with the keyboard)');
    await page.click(`tr[data-id="${other.id}"] td.sel input`);
    await page.click(`tr[data-id="${slow.id}"] td.sel input`);
    await page.waitForSelector('#bulk:not([hidden])', { timeout: 5000 });
    await page.click('#bulk [data-bulk=pause]');
    await waitFor(async () => (await rowStatus(page, other.id)) === 'paused' && (await rowStatus(page, slow.id)) === 'paused', 'both paused (bulk)');
    await page.click('#bulk [data-bulk=resume]');
    await waitFor(async () => (await rowStatus(page, slow.id)) === 'downloading', 'slow.bin downloading again (bulk)');
    check(true, 'bulk pause and resume round-trip (POST /api/v1/downloads/actions)');
    await page.click(`tr[data-id="${other.id}"] td.sel input`);
    await page.click(`tr[data-id="${slow.id}"] td.sel input`);

    // Filter and search.
    await page.click('#filters [data-filter=completed]');
    check((await rowIds(page)).join() === done.id, 'the completed filter shows only small.bin');
    await page.click('#filters [data-filter=all]');
    await page.type('#search', 'other');
    check((await rowIds(page)).join() === other.id, 'search narrows to other.bin');
    await page.$eval('#search', (e) => { e.value = ''; e.dispatchEvent(new Event('input')); });

    // Add through the dialog; remove (deleting the file) through the other.
    await page.click('#add-open');
    await page.type('#add-urls', fileUrl('added.bin', 8192));
    await page.type('#add-filename', 'added-by-page.bin');
    await page.click('#add-form button[type=submit]');
    const added = await waitFor(async () => (await rest('GET', 'downloads?limit=1000')).items.find((d) => d.filename === 'added-by-page.bin'), 'the added download on the server');
    await waitFor(async () => (await rowIds(page)).includes(added.id), 'the added row on the page');
    await waitFor(async () => (await rowStatus(page, added.id)) === 'completed', 'added-by-page.bin completed');
    check(true, 'a URL added on the page is queued, shown and completes');
    // Several URLs: one request, all or none. A bad one refuses the list, names its URL, and
    // adds nothing; mended, the same form adds every one of them once. The SHA-256 typed in
    // is one file's: it goes with a single URL only, like the file name.
    const listBefore = (await rest('GET', 'downloads?limit=1000')).items.length;
    await page.click('#add-open');
    await page.type('#add-urls', `${fileUrl('list-a.bin', 4096)}\nftp://bad.example/x\n${fileUrl('list-b.bin', 4096)}`);
    await page.type('#add-sha256', 'b'.repeat(64));
    await page.click('#add-form button[type=submit]');
    await waitFor(async () => (await page.$eval('#add-error', (e) => e.textContent)).includes('ftp://bad.example/x'), 'the refused list to name its bad URL');
    check((await rest('GET', 'downloads?limit=1000')).items.length === listBefore, 'a list with a bad URL adds nothing');
    await page.$eval('#add-urls', (e) => { e.value = e.value.replace('ftp://bad.example/x\n', ''); });
    await page.click('#add-form button[type=submit]');
    const listed = await waitFor(async () => {
      const items = (await rest('GET', 'downloads?limit=1000')).items;
      return items.length === listBefore + 2 ? items : null;
    }, 'the two listed downloads on the server');
    const listIds = listed.filter((d) => /list-[ab]/.test(d.url)).map((d) => d.id);
    check(listIds.length === 2, 'a list of URLs is added once, whole', JSON.stringify(listed.map((d) => d.url)));
    const listSha = listed.filter((d) => listIds.includes(d.id)).map((d) => d.sha256);
    check(listSha.every((h) => h == null), 'a list of URLs is sent without the SHA-256', JSON.stringify(listSha));
    await waitFor(async () => { const ids = await rowIds(page); return listIds.every((id) => ids.includes(id)); }, 'the listed rows on the page');
    for (const id of listIds) await rest('DELETE', `downloads/${id}`);

    await page.click(`tr[data-id="${added.id}"] button[data-action=remove]`);
    await page.click('#remove-dialog button[value=delete]');
    await waitFor(async () => !(await rowIds(page)).includes(added.id), 'the removed row to go');
    const gone = await fetch(`${base}/api/v1/downloads/${added.id}`, { headers: { Authorization: `Bearer ${KEY}` } });
    check(gone.status === 404, 'remove (delete the file) round-trips', String(gone.status));

    // Rows with a reason beside their status: a failed download with a long error (the
    // SHA-256 given with a single URL is sent, and does not match) and one waiting to retry.
    await page.click('#add-open');
    await page.type('#add-urls', fileUrl('mismatch.bin', 4096));
    await page.type('#add-sha256', 'a'.repeat(64));
    await page.click('#add-form button[type=submit]');
    const mismatch = await waitFor(async () => (await rest('GET', 'downloads?limit=1000')).items.find((d) => d.url.includes('mismatch.bin')), 'mismatch.bin on the server');
    check(mismatch.sha256 === 'a'.repeat(64), 'a single URL is sent with its SHA-256', String(mismatch.sha256));
    const busy = await rest('POST', 'downloads', { url: `${fileUrl('busy.bin', 4096)}&status=503`, filename: 'busy.bin' });
    await waitFor(async () => (await rowStatus(page, mismatch.id)) === 'failed', 'mismatch.bin failed');
    await waitFor(() => page.$eval(`tr[data-id="${busy.id}"] .detail`, (e) => /Retrying/.test(e.textContent)), 'busy.bin retrying');

    await shoot(page, 'webui-desktop-connected', 1280, 800);
    check(await page.$eval('th[data-sort=added]', (th) => th.offsetWidth > 0), 'the date added is shown at 1280 px');
    const cutDesktop = await overflowingCells(page);
    check(cutDesktop.length === 0, 'no header or value is cut at 1280 px', cutDesktop.join('; '));
    await shoot(page, 'webui-phone-connected', 390, 844);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, 'no horizontal scrolling at 390 px', `${overflow} px too wide`);
    const cutPct = await cutPercentages(page);
    check(cutPct.length === 0, 'the percentage is whole at 390 px', cutPct.join(', '));
    const cutWhy = await cutReasons(page);
    check(cutWhy.length === 0, 'a status with its reason (a long error, a retry) stays inside its card at 390 px', cutWhy.join('; '));
    const busyBars = await indeterminateBars(page);
    check(busyBars.length === 0, 'no progress bar is indeterminate (0 % is drawn as 0 %)', busyBars.join(', '));

    // A long list scrolled to its end: the connection indicator stays in view.
    const many = await rest('POST', 'downloads', { downloads: Array.from({ length: 60 }, (_, i) => ({ url: fileUrl(`many-${i}.bin`, 1024), filename: `many-${i}.bin` })) });
    const manyIds = many.downloads.map((d) => d.id);
    await waitFor(async () => { const ids = await rowIds(page); return manyIds.every((id) => ids.includes(id)); }, 'sixty more rows');
    for (const [width, height] of [[1280, 800], [390, 844]]) {
      await page.setViewport({ width, height });
      const away = await indicatorOutOfView(page);
      check(away === null, `the connection indicator stays in view at the end of a long list (${width} px)`, away);
    }
    for (const id of manyIds) await rest('DELETE', `downloads/${id}`);
    await waitFor(async () => !(await rowIds(page)).some((id) => manyIds.includes(id)), 'the sixty rows to go');
    await page.setViewport({ width: 1280, height: 800 });

    // German at 1280 px: its longer words fit their columns, every header with its sort arrow too.
    const de = await browser.newPage();
    await de.setViewport({ width: 1280, height: 800 });
    await de.goto(`${base}/ui/?lang=de`);
    await de.waitForSelector('#signin-view:not([hidden])');
    const title = await de.$eval('#signin-form h2', (e) => e.textContent);
    check(title === 'Anmelden', 'German when the language is German', title);
    await de.type('#key', KEY);
    await de.keyboard.press('Enter');
    await waitFor(() => de.$eval(`tr[data-id="${mismatch.id}"] .badge`, (e) => e.textContent === 'Fehlgeschlagen'), 'the German rows');
    const cutGerman = await overflowingCells(de);
    const sortable = await de.$$eval('th[data-sort] button', (bs) => bs.length);
    for (let i = 0; i < sortable; i++) {
      await de.evaluate((n) => document.querySelectorAll('th[data-sort] button')[n].click(), i);
      cutGerman.push(...(await overflowingCells(de)).filter((w) => w.startsWith('header') && w.includes('▲')));
    }
    check(cutGerman.length === 0, 'German at 1280 px: no header (sorted or not) or badge overflows its cell', cutGerman.join('; '));
    await de.close();

    // Accessibility: no serious or critical violations (axe-core, WCAG 2 A/AA).
    await page.evaluate(axeSource); // through DevTools, which the page's CSP does not govern
    const axe = await page.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
    check(axe.length === 0, 'axe-core: no serious or critical violations', axe.join('; '));
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    const axeDark = await page.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: ['color-contrast'] });
      return r.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
    check(axeDark.length === 0, 'axe-core: contrast holds in the dark scheme too', axeDark.join('; '));
    await shoot(page, 'webui-desktop-dark', 1280, 800);
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);

    // Token renewal: with ?tokenTtl=60 the page mints again half-way (30 s).
    const firstToken = streamUrls[0]?.searchParams.get('token');
    await waitFor(async () => Number(await page.$eval('body', (b) => b.dataset.tokenMints || 0)) >= 2,
      'the stream token to be renewed', Math.max(5000, 45000 - (Date.now() - signedInAt)));
    check(true, `the stream token was renewed before it expired (${((Date.now() - signedInAt) / 1000).toFixed(0)} s after sign-in)`);

    const rotations = streamUrls.length - 1;
    const seen = await page.evaluate(() => window.statesSeen);
    check(rotations >= 3 && seen.every((s) => s === 'connected'),
      `${rotations} planned stream renewals (HERMES_SSE_CONNECTION_TIMEOUT=6) never showed as an outage`, seen.join());

    // The server killed: Reconnecting with the attempt number; speeds and ETAs "—".
    await stopHermes(hermes, 'SIGKILL');
    const r1 = await waitFor(async () => { const s = await connState(page); return s.state === 'reconnecting' && s; }, 'Reconnecting');
    check(/attempt \d+/.test(r1.text), `the indicator says "${r1.text}"`);
    const speeds = await page.$$eval('#rows td.speed, #rows td.eta', (tds) => tds.map((td) => td.textContent));
    check(speeds.every((s) => s === '—'), 'speeds and ETAs show — while not connected', speeds.join());
    await shoot(page, 'webui-desktop-reconnecting', 1280, 800);
    const cutLater = await overflowingCells(page); // two-digit percentages by now ("39.9 %")
    check(cutLater.length === 0, 'no header or value is cut at 1280 px (later, while reconnecting)', cutLater.join('; '));
    await shoot(page, 'webui-phone-reconnecting', 390, 844);
    const cutOffline = await cutPercentages(page); // "Speed —": a shorter line, where it was cut
    check(cutOffline.length === 0, 'the percentage is whole at 390 px while reconnecting', cutOffline.join(', '));
    await page.setViewport({ width: 1280, height: 800 });
    const r2 = await waitFor(async () => { const s = await connState(page); return /attempt [2-9]/.test(s.text) && s; }, 'attempt 2', 10000);
    check(true, `it keeps trying: "${r2.text}"`);

    // Restarted: Connected again, with what happened meanwhile, every row once, no reload.
    const before = streamUrls.length;
    hermes = await startHermes(mainEnv);
    const late = await rest('POST', 'downloads', { url: fileUrl('late.bin', 2048), filename: 'late.bin' });
    await waitFor(async () => (await connState(page)).state === 'connected', 'Connected after the restart', 40000);
    const want = (await rest('GET', 'downloads?limit=1000')).items.map((d) => d.id).sort();
    const got = await waitFor(async () => { const r = (await rowIds(page)).sort(); return r.join() === want.join() && r; }, 'the rows to match the server', 10000);
    check(got.includes(late.id), 'the download added during the outage appears');
    check(new Set(got).size === got.length, 'no duplicate rows');
    const loads = await page.$eval('body', (b) => b.dataset.snapshotLoads);
    check(loads === '1', 'no full reload after the reconnect (resumed with the last event id)', `snapshot loads: ${loads}`);
    const resumed = streamUrls.slice(before).at(-1);
    check(resumed && resumed.searchParams.get('lastEventId'), 'the new stream passes lastEventId', resumed?.search);
    check(resumed && resumed.searchParams.get('token') !== firstToken, 'the reconnect uses the renewed token');

    // A dead path (the proxy stops forwarding, nothing closes): the stall watchdog (2.5 ×
    // the 2 s heartbeat) notices, and the page reconnects through a new connection.
    const proxyPort = await freePort();
    const proxy = await startFreezingProxy(proxyPort, port);
    try {
      const viaProxy = await browser.newPage();
      await viaProxy.goto(`http://127.0.0.1:${proxyPort}/ui/`);
      await viaProxy.waitForSelector('#signin-view:not([hidden])');
      await viaProxy.type('#key', KEY);
      await viaProxy.keyboard.press('Enter');
      await waitFor(async () => (await connState(viaProxy)).state === 'connected', 'connected through the proxy');
      await sleep(500);
      const frozenAt = Date.now();
      proxy.freeze();
      const stalled = await waitFor(async () => { const s = await connState(viaProxy); return s.state === 'reconnecting' && s; }, 'the watchdog to notice', 12000);
      const title = await viaProxy.$eval('#conn', (e) => e.title);
      check(/no data/.test(title), `a silent stream is noticed by the watchdog after ${((Date.now() - frozenAt) / 1000).toFixed(1)} s ("${stalled.text}", ${title})`);
      await waitFor(async () => (await connState(viaProxy)).state === 'connected', 'connected again through the proxy', 15000);
      check(true, 'and reconnects');
      await viaProxy.close();
    } finally {
      proxy.close();
    }

    // Signed out and in again: the rows of the new session only, once (the old table and model
    // are dropped, not left to redraw into the shared tbody).
    await page.click('#signout');
    await page.waitForSelector('#signin-view:not([hidden])', { timeout: 10000 });
    check(await page.$eval('#rows', (b) => b.childElementCount) === 0, 'signing out empties the table');
    await page.type('#key', KEY);
    await page.keyboard.press('Enter');
    await waitFor(async () => (await connState(page)).state === 'connected', 'Connected after signing in again');
    const wantAgain = (await rest('GET', 'downloads?limit=1000')).items.map((d) => d.id).sort();
    await waitFor(async () => (await rowIds(page)).sort().join() === wantAgain.join(), 'the rows after signing in again', 10000);
    await sleep(1200); // a redraw the old table had scheduled would have come by now
    const rowsAgain = await page.$eval('#rows', (b) => [...b.children].map((tr) => tr.dataset.id));
    check(rowsAgain.length === wantAgain.length && new Set(rowsAgain).size === rowsAgain.length,
      'signed out and in again: every row once', `${rowsAgain.length} rows, ${wantAgain.length} on the server`);

    // The key revoked (removed from the key file + SIGHUP): back to sign-in, told why. After
    // a second and more of streaming, so that the end is a renewal, not an outage with backoff.
    await sleep(1500);
    const revokedAt = Date.now();
    writeFileSync(keyFile, 'another-key\n');
    hermes.kill('SIGHUP');
    await waitFor(() => page.$eval('#signin-view', (e) => !e.hidden), 'sign-in after revocation', 15000);
    const why = await page.$eval('#signin-error', (e) => e.textContent);
    check(/no longer accepted/.test(why), `a revoked key goes back to sign-in with a message (${Date.now() - revokedAt} ms after SIGHUP)`, why);
    check(await page.evaluate(() => !sessionStorage.getItem('hermes.apiKey')), 'the revoked key is forgotten');
    const said = (await connState(page)).text;
    check(/rejected/.test(said), 'the indicator keeps the reason (the key was rejected)', said);

    // A full server: 503 with Retry-After, shown as "Server busy" and waited out. The key is
    // remembered (localStorage), so the second tab signs in by itself.
    writeFileSync(keyFile, `${KEY}\n`);
    const fullPort = await freePort();
    const full = await startHermes({ HERMES_SSE_MAX_CONNECTIONS: '1' }, fullPort);
    try {
      const first = await browser.newPage();
      await first.goto(`http://127.0.0.1:${fullPort}/ui/`);
      await first.waitForSelector('#signin-view:not([hidden])');
      await first.type('#key', KEY);
      await first.click('#remember');
      await first.click('#signin-form button[type=submit]');
      await waitFor(async () => (await connState(first)).state === 'connected', 'the first tab connected');
      const second = await browser.newPage();
      await second.goto(`http://127.0.0.1:${fullPort}/ui/`);
      const busy = await waitFor(async () => { const s = await connState(second); return s.state === 'reconnecting' && s; }, 'the second tab turned away');
      check(/Server busy \(HTTP 503\)/.test(busy.text), `a full server is "${busy.text}"`);
      const wait = Number(/next try in (\d+) s/.exec(busy.text)?.[1]);
      // 5 to 7.5 s, shown rounded up; read up to a poll later, so 4 is the least a slow machine sees.
      check(wait >= 4 && wait <= 8, `Retry-After: 5 is honoured with jitter (next try in ${wait} s)`);
      check(await second.evaluate(() => !document.querySelector('#queue-view').hidden), 'a remembered key signs in by itself');
      await first.close();
      await waitFor(async () => (await connState(second)).state === 'connected', 'the second tab connected once there is room', 12000);
      check(true, 'connected once a stream is free');
      // The key revoked while a third tab waits for room: the stream is not there to notice,
      // the next REST call is refused (401), and the indicator says why, not just "closed".
      const third = await browser.newPage();
      await third.goto(`http://127.0.0.1:${fullPort}/ui/`);
      // Acted on while its next try is seconds away (Retry-After: 5), so that the stream does
      // not find out first.
      await waitFor(async () => Number(/next try in (\d+) s/.exec((await connState(third)).text)?.[1]) >= 4, 'the third tab turned away');
      writeFileSync(keyFile, 'another-key\n');
      full.kill('SIGHUP');
      await waitFor(async () => (await fetch(`http://127.0.0.1:${fullPort}/api/v1/downloads?limit=1`, { headers: { Authorization: `Bearer ${KEY}` } })).status === 401, 'the key refused', 3000);
      await third.click('#add-open');
      await third.type('#add-urls', fileUrl('refused.bin', 1024));
      await third.click('#add-form button[type=submit]');
      await waitFor(() => third.$eval('#signin-view', (e) => !e.hidden), 'the waiting tab back at sign-in');
      const refused = (await connState(third)).text;
      check(/rejected/.test(refused), 'a REST call refused for a revoked key: the indicator says the key was rejected', refused);
      await second.close();
      await third.close();
    } finally {
      await stopHermes(full, 'SIGTERM');
    }

    check(problems.length === 0, 'no script errors or CSP violations in the console', problems.join(' | '));
  } finally {
    await browser.close();
  }

  // HERMES_WEBUI=0: no page.
  await stopHermes(hermes, 'SIGTERM');
  const offPort = await freePort();
  const off = await startHermes({ HERMES_WEBUI: '0' }, offPort);
  const offAnswer = await fetch(`http://127.0.0.1:${offPort}/ui/`);
  const offRoot = await fetch(`http://127.0.0.1:${offPort}/`, { redirect: 'manual' });
  check(offAnswer.status === 404 && offRoot.status === 404, 'HERMES_WEBUI=0: /ui/ and / answer 404', `${offAnswer.status} ${offRoot.status}`);
  await stopHermes(off, 'SIGTERM');
  files.close();
}

try {
  await main();
} catch (e) {
  check(false, 'the run', e.stack || e.message);
  // What the page showed, and what the server had, when it failed.
  const dump = await mainPage?.evaluate(() => ({
    conn: document.getElementById('conn').textContent.replace(/\s+/g, ' ').trim(),
    title: document.getElementById('conn').title,
    rows: [...document.querySelectorAll('#rows tr')].map((tr) => `${tr.dataset.id.slice(0, 8)} ${tr.dataset.status} ${tr.querySelector('.name').textContent}`),
    addError: document.getElementById('add-error').textContent,
    notices: [...document.querySelectorAll('#notices li')].map((li) => li.textContent),
    dialogs: [...document.querySelectorAll('dialog[open]')].map((d) => d.id),
  })).catch((err) => `no page state: ${err.message}`);
  log('page state:', JSON.stringify(dump, null, 1));
  const server = await rest('GET', 'downloads?limit=1000').catch((err) => `no answer: ${err.message}`);
  log('server state:', JSON.stringify(server?.items?.map((d) => `${d.id.slice(0, 8)} ${d.status} ${d.filename} ${d.error_message ?? ''}`) ?? server));
} finally {
  await stopHermes(hermes, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
for (const s of screenshots) log(`screenshot: ${s}`);
log(`runtime ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
