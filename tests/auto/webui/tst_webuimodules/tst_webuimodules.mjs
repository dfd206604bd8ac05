// The web page's pure modules under Node's test runner (no browser, no npm): the SSE parser,
// the backoff, the queue model. Run as: node --test tst_webuimodules.mjs (HERMES_WEBUI_DIR:
// another copy of resources/webui).
// Randomized parts are seeded (HERMES_WEBUI_SEED), and print the seed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = resolve(process.env.HERMES_WEBUI_DIR || new URL('../../../../resources/webui', import.meta.url).pathname);
const load = (name) => import(pathToFileURL(resolve(dir, name)).href);
const { SseParser } = await load('sse.js');
const { Backoff } = await load('backoff.js');
const { QueueModel } = await load('queue.js');

// A small seeded generator (mulberry32), so a failure can be replayed.
const seed = Number(process.env.HERMES_WEBUI_SEED) || (Date.now() % 1e9);
console.log(`seed ${seed} (HERMES_WEBUI_SEED=${seed} to replay)`);
function rng(s) {
  return () => { s |= 0; s = (s + 0x6d2b79f5) | 0; let t = Math.imul(s ^ (s >>> 15), 1 | s); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

function parseAll(chunks) {
  const events = [], retries = [];
  const p = new SseParser((e) => events.push(e), (ms) => retries.push(ms));
  for (const c of chunks) p.push(c);
  return { events, retries };
}

test('SSE: fields, ids, retry, comments, multi-line data', () => {
  const { events, retries } = parseAll([
    ': hello\n\nid: a-1\nevent: x\ndata: {"a":1}\n\ndata: one\ndata: two\n\nretry: 2500\n\nid: b-2\ndata:no space\n\n',
  ]);
  assert.deepEqual(events, [
    { type: 'x', data: '{"a":1}', id: 'a-1' },
    { type: 'message', data: 'one\ntwo', id: null },
    { type: 'message', data: 'no space', id: 'b-2' },
  ]);
  assert.deepEqual(retries, [2500]);
});

test('SSE: any split of the bytes, any line ending, gives the same events', () => {
  const random = rng(seed);
  const text = 'id: 1\ndata: {"x":"é"}\n\nevent: heartbeat\ndata: {}\n\n: c\nid: 2\ndata: a\ndata: b\n\n';
  const want = parseAll([text]).events;
  for (const ending of ['\n', '\r\n', '\r']) {
    const variant = text.replace(/\n/g, ending);
    for (let round = 0; round < 200; round++) {
      const chunks = [];
      for (let i = 0; i < variant.length;) {
        const n = 1 + Math.floor(random() * 7);
        chunks.push(variant.slice(i, i + n));
        i += n;
      }
      assert.deepEqual(parseAll(chunks).events, want, `ending ${JSON.stringify(ending)}, chunks ${JSON.stringify(chunks)}`);
    }
  }
});

test('SSE: an unfinished event is not dispatched', () => {
  assert.deepEqual(parseAll(['id: 1\ndata: x\n']).events, []);
});

test('backoff: 1 s doubling to 30 s with equal jitter, then 30 s ± 20 %', () => {
  const low = new Backoff(() => 0), high = new Backoff(() => 1);
  const bounds = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000];
  bounds.forEach((b, i) => {
    assert.equal(low.delayMs(i + 1), b / 2);
    assert.equal(high.delayMs(i + 1), b);
  });
  assert.equal(low.delayMs(11), 24000);
  assert.ok(Math.abs(high.delayMs(500) - 36000) < 1e-6); // never gives up
});

test('backoff: retry: replaces the base, never below 500 ms', () => {
  const b = new Backoff(() => 1);
  b.setServerRetry(3000);
  assert.equal(b.delayMs(1), 3000);
  b.setServerRetry(0);
  assert.equal(b.delayMs(1), 500);
  b.setServerRetry(-1);
  assert.equal(b.delayMs(1), 1000);
});

test('backoff: Retry-After in seconds or as a date, with up to 50 % more', () => {
  const b = new Backoff(() => 1);
  assert.equal(b.retryAfterMs('5'), 7500);
  assert.equal(new Backoff(() => 0).retryAfterMs('5'), 5000);
  assert.equal(b.retryAfterMs('0'), 1500); // at least 1 s
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(new Backoff(() => 0).retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now), 10000);
  assert.equal(b.retryAfterMs('soon'), null);
  assert.equal(b.retryAfterMs(null), null);
});

const row = (id, extra = {}) => ({ id, filename: `${id}.bin`, status: 'pending', priority: 0, position: 1,
  progress: { percentage: 0 }, updated_at: '2026-01-01T00:00:10.000Z', ...extra });

test('queue: a list is merged into the rows, never replacing what stays', () => {
  let changes = 0;
  const m = new QueueModel(() => changes++);
  m.merge([row('a'), row('b')]);
  const a = m.rows.get('a');
  m.merge([row('a', { status: 'downloading' }), row('c')]);
  assert.equal(m.rows.get('a'), a); // the same object: the table keeps its element
  assert.equal(a.status, 'downloading');
  assert.deepEqual([...m.rows.keys()].sort(), ['a', 'c']);
  assert.equal(m.snapshotLoads, 2);
  assert.ok(changes >= 2);
});

test('queue: events update rows, carry unknown fields, ask for unknown ids', () => {
  const m = new QueueModel(() => {});
  m.merge([row('a')]);
  assert.equal(m.apply('download_progress', { download_id: 'a', status: 'downloading', phase: 'stalled',
    progress: { percentage: 40, downloaded_bytes: 400, total_bytes: 1000, speed: 10, eta: 60 } }), null);
  const a = m.rows.get('a');
  assert.equal(a.status, 'downloading');
  assert.equal(a.phase, 'stalled'); // a newer server's field, shown as it is
  assert.equal(a.progress.percentage, 40);
  assert.equal(a.total_bytes, 1000);
  assert.equal(m.apply('queue_update', { action: 'added', download_id: 'n', status: 'pending' }), 'n');
  assert.equal(m.apply('download_progress', { download_id: 'p', status: 'downloading', progress: { percentage: 1 } }), 'p');
  assert.ok(m.rows.has('p')); // shown at once, fetched whole by the caller
  m.apply('queue_update', { action: 'reordered', download_id: 'a', priority: 7, position: 3 });
  assert.equal(a.priority, 7);
  m.apply('queue_update', { action: 'removed', download_id: 'a' });
  assert.ok(!m.rows.has('a'));
  assert.deepEqual(m.counts(), { all: 1, pending: 0, downloading: 1, processing: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 });
});

test('queue: an event older than the list it was buffered behind is dropped', () => {
  const m = new QueueModel(() => {});
  m.merge([row('a', { status: 'completed' })]);
  m.apply('download_progress', { download_id: 'a', status: 'downloading' }, '2026-01-01T00:00:09Z');
  assert.equal(m.rows.get('a').status, 'completed');
  m.apply('download_progress', { download_id: 'a', status: 'failed' }, '2026-01-01T00:00:11Z');
  assert.equal(m.rows.get('a').status, 'failed');
});

test('queue: a fetch that comes back after its download was removed does not bring it back', () => {
  const m = new QueueModel(() => {});
  m.merge([]);
  assert.equal(m.apply('queue_update', { action: 'added', download_id: 'x', status: 'pending' }), 'x');
  m.apply('queue_update', { action: 'removed', download_id: 'x' });
  m.upsertFetched(row('x'));
  assert.ok(!m.rows.has('x'));
  m.upsertFetched(row('y'));
  assert.ok(m.rows.has('y'));
});

test('queue: a REST answer older than the row\'s newest event does not put the older state back', () => {
  const m = new QueueModel(() => {});
  m.merge([row('a', { status: 'downloading', updated_at: '2026-01-01T00:00:10Z' })]);
  m.apply('download_progress', { download_id: 'a', status: 'completed', progress: { percentage: 100 } },
    null, '2026-01-01T00:00:20Z');
  // The fetch (or an add's answer) read at 00:00:15 arrives after that event.
  m.upsert(row('a', { status: 'downloading', progress: { percentage: 50 }, priority: 9, sha256: 'ab',
    created_at: '2026-01-01T00:00:01Z', updated_at: '2026-01-01T00:00:15Z' }));
  const a = m.rows.get('a');
  assert.equal(a.status, 'completed');
  assert.equal(a.progress.percentage, 100);
  assert.equal(a.priority, 9); // what events do not carry is taken
  assert.equal(a.sha256, 'ab');
  assert.equal(a.created_at, '2026-01-01T00:00:01Z');
  // A newer answer is taken whole.
  m.upsert(row('a', { status: 'failed', updated_at: '2026-01-01T00:00:30Z' }));
  assert.equal(a.status, 'failed');
  // A progress event's placeholder gets the fetched name and date, keeps the event's state.
  assert.equal(m.apply('download_progress', { download_id: 'p', status: 'downloading', progress: { percentage: 7 } },
    null, '2026-01-01T00:01:00Z'), 'p');
  m.upsertFetched(row('p', { status: 'pending', url: 'http://x/p', created_at: '2026-01-01T00:00:50Z',
    updated_at: '2026-01-01T00:00:55Z', position: 4 }));
  const p = m.rows.get('p');
  assert.equal(p.status, 'downloading');
  assert.equal(p.progress.percentage, 7);
  assert.equal(p.url, 'http://x/p');
  assert.equal(p.created_at, '2026-01-01T00:00:50Z');
  assert.equal(p.position, 4);
});

test('queue: a progress event after the removal makes no placeholder; a 404 drops one', () => {
  const m = new QueueModel(() => {});
  m.merge([row('a')]);
  m.apply('queue_update', { action: 'removed', download_id: 'a' });
  assert.equal(m.apply('download_progress', { download_id: 'a', status: 'downloading', progress: { percentage: 3 } }), null);
  assert.ok(!m.rows.has('a'));
  assert.equal(m.apply('download_progress', { download_id: 'q', status: 'downloading', progress: { percentage: 3 } }), 'q');
  m.forget('q'); // the follow-up fetch answered 404
  assert.ok(!m.rows.has('q'));
  m.upsertFetched(row('q'));
  assert.ok(!m.rows.has('q'));
});

// api.js and i18n.js read the page's address when loaded: a stand-in for them.
globalThis.location ??= new URL('http://hermes.test/ui/?lang=en');

test('api: the list is walked by cursor (next_cursor) to its null end, never by offset', async () => {
  const { Api } = await load('api.js');
  const pages = { '': { items: [row('a'), row('b')], next_cursor: 'c1' },
    c1: { items: [row('b'), row('c')], next_cursor: 'c2' }, c2: { items: [row('d')], next_cursor: null } };
  const asked = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    const u = new URL(url);
    asked.push(u.search);
    const page = pages[u.searchParams.get('cursor') ?? ''];
    return new Response(JSON.stringify({ ...page, limit: 1000, offset: null, next_offset: null, total: null }),
      { status: 200, headers: { 'Content-Type': 'application/json' } });
  };
  try {
    const items = await new Api('k').listAll();
    assert.deepEqual(items.map((d) => d.id), ['a', 'b', 'c', 'd']); // a row seen twice counts once
    assert.deepEqual(asked, ['?limit=1000', '?limit=1000&cursor=c1', '?limit=1000&cursor=c2']);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('phases: the monitor\'s words, a countdown while retrying, nothing while transferring', async () => {
  const { phaseText } = await load('i18n.js');
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(phaseText({ phase: 'transferring' }, now), '');
  assert.equal(phaseText({ phase: null }, now), '');
  assert.equal(phaseText({ phase: 'waiting_for_connection' }, now), 'Waiting for a connection');
  assert.equal(phaseText({ phase: 'connecting' }, now), 'Connecting');
  assert.equal(phaseText({ phase: 'stalled' }, now), 'Stalled');
  assert.equal(phaseText({ phase: 'retrying', attempt: 2, max_attempts: 5, next_attempt_at: '2026-01-01T00:00:08Z' }, now),
    'Retrying 2/5 in 8 s');
  assert.equal(phaseText({ phase: 'retrying', attempt: 3, max_attempts: null, next_attempt_at: null }, now), 'Retrying 3');
  assert.equal(phaseText({ phase: 'retrying', attempt: 2, max_attempts: 5, next_attempt_at: '2025-12-31T23:59:59Z' }, now),
    'Retrying 2/5');
  assert.equal(phaseText({ phase: 'resolving' }, now), 'resolving'); // a newer server's: as sent
});
