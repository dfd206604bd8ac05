// The page: sign-in, then the queue, live. No framework: a handful of modules, no build step.

import { Api } from './api.js';
import { EventStream } from './stream.js';
import { QueueModel, STATUSES } from './queue.js';
import { QueueTable } from './table.js';
import { t, translatePage } from './i18n.js';
import { Backoff } from './backoff.js';

const $ = (id) => document.getElementById(id);
const KEY = 'hermes.apiKey';
const params = new URLSearchParams(location.search);
// ?tokenTtl=60 asks for short-lived stream tokens (the shortest the server mints): for tests.
const tokenTtl = Number(params.get('tokenTtl')) || 300;

let api = null;
let stream = null;
let model = null;
let table = null;
let snapshot = { loading: false, buffered: [], loaded: false, attempt: 0, timer: 0 };
let countdown = 0;

translatePage();

// ---- sign-in ----

function storedKey() { return sessionStorage.getItem(KEY) || localStorage.getItem(KEY); }

function showSignIn(message = '') {
  $('queue-view').hidden = true;
  $('signout').hidden = true;
  $('signin-view').hidden = false;
  $('signin-error').textContent = message;
  $('key').focus();
}

async function signIn(key, remember) {
  const probe = new Api(key);
  try {
    await probe.call('GET', 'downloads?limit=1');
  } catch (e) {
    if (e.status === 401) return t('wrongKey');
    return t('unreachable', e.status ? `HTTP ${e.status}` : e.message);
  }
  sessionStorage.setItem(KEY, key);
  if (remember) localStorage.setItem(KEY, key); else localStorage.removeItem(KEY);
  start(key);
  return '';
}

function signOut(message = '', reason = 'closed') {
  // A stream that stopped itself (a rejected key) keeps its reason on the indicator.
  if (stream && !stream.stopped) stream.stop(reason);
  clearTimeout(snapshot.timer);
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  api = null;
  stream = null;
  // The old model and table go with the session: a redraw they had scheduled must not put
  // the last account's rows back into the shared tbody.
  if (table) table.detached = true;
  model = null;
  table = null;
  $('rows').replaceChildren();
  showSignIn(message);
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const key = $('key').value.trim();
  if (!key) { $('signin-error').textContent = t('emptyKey'); return; }
  const button = ev.submitter ?? $('signin-form').querySelector('button');
  button.disabled = true;
  $('signin-error').textContent = await signIn(key, $('remember').checked);
  button.disabled = false;
  if (!$('signin-error').textContent) $('key').value = '';
});
$('signout').addEventListener('click', () => signOut());

// ---- the queue ----

function start(key) {
  api = new Api(key, () => signOut(t('revoked'), 'rejected'));
  // Bound to this session's table, not to whichever the page has by then.
  const own = new QueueModel(() => ownTable.schedule());
  const ownTable = new QueueTable(own, {
    tbody: $('rows'), empty: $('queue-empty'), more: $('show-more'), onAction: act, onSelection: renderBulk,
    onRender: renderFilters,
  });
  ownTable.search = $('search').value; // what the search box still says
  model = own;
  table = ownTable;
  snapshot = { loading: false, buffered: [], loaded: false, attempt: 0, timer: 0 };
  $('signin-view').hidden = true;
  $('queue-view').hidden = false;
  $('signout').hidden = false;
  renderFilters();
  table.render();
  stream = new EventStream(api, {
    tokenTtl,
    onState: showState,
    onEvent,
    onRevoked: () => signOut(t('revoked'), 'rejected'),
  });
  stream.start();
}

function onEvent(type, data, meta) {
  document.body.dataset.tokenMints = stream.tokenMints;
  if (type === 'connected') {
    // The first connection loads the list; later ones resume from the last id and get what
    // they missed, so nothing is reloaded (only resync_required does that).
    if (!snapshot.loaded && !snapshot.loading) loadSnapshot();
    return;
  }
  if (type === 'resync_required') { loadSnapshot(); return; }
  if (type === 'system_notification') { notice(data.message, data.notification_type); return; }
  if (type !== 'download_progress' && type !== 'queue_update') return;
  if (snapshot.loading) { snapshot.buffered.push([type, data, meta.timestamp]); return; }
  const unknown = model.apply(type, data, null, meta.timestamp);
  if (unknown) fetchOne(unknown);
}

async function fetchOne(id) {
  const session = model;
  try {
    const item = await api.get(id);
    if (model === session) model.upsertFetched(item);
  } catch (e) {
    // Gone meanwhile: the placeholder a progress event made goes too. Offline: the next
    // event says.
    if (e.status === 404 && model === session) model.forget(id);
  }
}

async function loadSnapshot() {
  clearTimeout(snapshot.timer);
  snapshot.loading = true;
  snapshot.buffered = [];
  const session = api;
  const seq = snapshot.seq = (snapshot.seq ?? 0) + 1; // a resync during a load: the newer one counts
  try {
    const items = await api.listAll();
    if (api !== session || seq !== snapshot.seq) return; // signed out, or a newer load is on its way
    model.merge(items);
    snapshot.loaded = true;
    snapshot.attempt = 0;
    $('banner').hidden = true;
    $('queue').classList.remove('stale');
    document.body.dataset.snapshotLoads = model.snapshotLoads;
    const buffered = snapshot.buffered;
    snapshot.loading = false;
    snapshot.buffered = [];
    for (const [type, data, timestamp] of buffered) {
      const unknown = model.apply(type, data, timestamp);
      if (unknown) fetchOne(unknown);
    }
  } catch (e) {
    if (api !== session || seq !== snapshot.seq) return;
    snapshot.loading = false;
    if (e.status === 401) return;
    // Events keep coming; the list is retried with the stream's backoff meanwhile.
    $('banner').textContent = t('staleList', e.message);
    $('banner').hidden = false;
    $('queue').classList.add('stale');
    // A busy server's Retry-After (429/503) first, as the stream does.
    const backoff = new Backoff();
    const wait = backoff.retryAfterMs(e.retryAfter) ?? backoff.delayMs(++snapshot.attempt);
    snapshot.timer = setTimeout(loadSnapshot, wait);
  }
}

function renderFilters() {
  const counts = model ? model.counts() : { all: 0 };
  const box = $('filters');
  if (!box.childElementCount) {
    for (const status of ['all', ...STATUSES]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.filter = status;
      b.addEventListener('click', () => {
        if (!table) return;
        table.filter = status;
        renderFilters();
        table.render();
      });
      box.append(b);
    }
  }
  for (const b of box.children) {
    const status = b.dataset.filter;
    b.textContent = `${t(status)} ${counts[status] ?? 0}`;
    b.setAttribute('aria-pressed', String((table?.filter ?? 'all') === status));
  }
}

$('search').addEventListener('input', (e) => { if (table) { table.search = e.target.value; table.render(); } });
for (const th of document.querySelectorAll('th[data-sort]')) {
  th.querySelector('button').addEventListener('click', () => {
    if (!table) return;
    const key = th.dataset.sort;
    table.sort = { key, dir: table.sort.key === key ? -table.sort.dir : 1 };
    for (const other of document.querySelectorAll('th[data-sort]')) other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', table.sort.dir > 0 ? 'ascending' : 'descending');
    table.render();
  });
}
$('select-all').addEventListener('change', (e) => table?.selectAll(e.target.checked));
// Once for the page, not per sign-in: each session's table would add one more otherwise.
$('show-more').addEventListener('click', () => table?.showMore());

// ---- the connection indicator ----

function showState(s) {
  const box = $('conn');
  box.dataset.state = s.state;
  clearInterval(countdown);
  $('conn-countdown').textContent = '';
  $('conn-retry').hidden = s.state !== 'reconnecting' && s.state !== 'disconnected';
  let text;
  if (s.state === 'connected') text = t('connected');
  else if (s.state === 'connecting') text = t('connecting');
  else if (s.state === 'reconnecting') {
    // After the fast attempts: the slow phase, said plainly (the monitor's words).
    text = (s.attempt > 10 ? `${t('offline')} · ${t('reconnecting', s.attempt)}` : t('reconnecting', s.attempt))
      + (s.busy ? ` — ${t('serverBusy', s.busy)}` : '');
    const tick = () => {
      const secs = Math.max(0, Math.ceil((s.nextAt - Date.now()) / 1000));
      $('conn-countdown').textContent = `· ${t('nextTry', secs)}`;
    };
    tick();
    countdown = setInterval(tick, 1000);
  } else {
    const reasons = { rejected: 'reasonRejected', forbidden: 'reasonForbidden', closed: 'reasonClosed' };
    text = `${t('disconnected')} — ${t(reasons[s.reason] ?? 'reasonClosed')}`;
  }
  $('conn-text').textContent = text;
  box.title = s.message ? String(s.message) : '';
  if (table) {
    const live = s.state === 'connected';
    if (table.live !== live) { table.live = live; table.render(); } // no stale speed for a moment
  }
}
$('conn-retry').addEventListener('click', () => stream?.reconnectNow());
// The network came back (or the machine woke up): try now rather than at the next backoff.
window.addEventListener('online', () => stream?.reconnectNow());

function notice(message, kind = 'info') {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = message;
  $('notices').prepend(li);
  while ($('notices').childElementCount > 5) $('notices').lastElementChild.remove();
  setTimeout(() => li.remove(), 15000);
}

// ---- actions ----

function ask(dialog, prepare) {
  prepare?.();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function act(action, ids) {
  try {
    if (action === 'remove') {
      const answer = await ask($('remove-dialog'), () => { $('remove-text').textContent = t('removeText', ids.length); });
      if (!answer) return;
      for (const id of ids) await api.remove(id, answer === 'delete');
      return;
    }
    let priority;
    if (action === 'priority') {
      const one = ids.length === 1 ? model.rows.get(ids[0]) : null;
      const answer = await ask($('priority-dialog'), () => { $('priority-value').value = one?.priority ?? 0; });
      if (!answer) return;
      priority = Math.round(Number($('priority-value').value));
    }
    if (ids.length === 1 && action !== 'priority') await api.act(ids[0], action);
    else if (ids.length === 1) await api.setPriority(ids[0], priority);
    else {
      const result = await api.bulk(action, ids, priority);
      if (result.skipped?.length) notice(t('skipped', result.skipped.length, result.skipped.map((s) => s.reason).join(', ')), 'warning');
    }
  } catch (e) {
    if (e.status !== 401) notice(t('actionFailed', t(action), e.message), 'error');
  }
}

function renderBulk(selected) {
  $('bulk').hidden = selected.size === 0;
  $('bulk-count').textContent = t('selected', selected.size);
  const visible = table.visibleRows();
  $('select-all').checked = visible.length > 0 && visible.every((r) => selected.has(r.id));
}
for (const b of document.querySelectorAll('[data-bulk]')) {
  b.addEventListener('click', () => table && act(b.dataset.bulk, [...table.selected]));
}

$('add-open').addEventListener('click', () => { $('add-error').textContent = ''; $('add-dialog').showModal(); $('add-urls').focus(); });
$('add-cancel').addEventListener('click', () => $('add-dialog').close());
$('add-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const urls = $('add-urls').value.split(/\s+/).filter(Boolean);
  const sha256 = $('add-sha256').value.trim();
  if (!urls.length) { $('add-error').textContent = t('noUrl'); return; }
  if (sha256 && !/^[0-9a-fA-F]{64}$/.test(sha256)) { $('add-error').textContent = t('badSha'); return; }
  const filename = $('add-filename').value.trim();
  const priority = Math.round(Number($('add-priority').value) || 0);
  const requests = urls.map((url) => {
    const request = { url, priority };
    if (filename && urls.length === 1) request.filename = filename;
    if (sha256 && urls.length === 1) request.sha256 = sha256; // one file's checksum
    return request;
  });
  try {
    if (requests.length === 1) model?.upsert(await api.add(requests[0]));
    else for (const d of await api.addMany(requests)) model?.upsert(d);
    $('add-form').reset();
    $('add-dialog').close();
  } catch (e) {
    // A refused list names its item by index: show the URL a person typed instead.
    const item = /^downloads\[(\d+)\]: (.*)$/s.exec(e.message);
    $('add-error').textContent = (item && urls[Number(item[1])] ? `${urls[Number(item[1])]}: ${item[2]}` : e.message)
      + (e.addedBefore ? ` ${t('addedBefore', e.addedBefore)}` : '');
  }
});

// ---- go ----

const saved = storedKey();
if (saved) start(saved); else showSignIn();
