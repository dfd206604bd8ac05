// The queue table: filtered, searched and sorted rows, updated in place (a row's element is
// kept for its download, so focus, selection and scroll survive every update).

import { t, bytes, rate, duration, date, percent, phaseText, DASH } from './i18n.js';
import { STATUSES } from './queue.js';

const ACTIONS = {
  pause: ['pending', 'downloading', 'processing'],
  resume: ['paused'],
  cancel: ['pending', 'downloading', 'processing', 'paused'],
  retry: ['failed', 'cancelled'],
};
// Fields shown in their own columns or not for people; anything else an event carries (a
// newer server's phase, reason, …) is shown beside the status.
const KNOWN = new Set(['$v', 'id', 'url', 'filename', 'status', 'priority', 'position', 'progress',
  'downloaded_bytes', 'total_bytes', 'speed', 'eta', 'sha256', 'error_message', 'note',
  'attempts', 'created_at', 'updated_at', 'completed_at', 'result', 'queue_length', 'active',
  'phase', 'attempt', 'max_attempts', 'next_attempt_at']);
// A phase only means something with the status it belongs to (README: "phase").
const PHASED = new Set(['downloading', 'pending']);
// Waiting for a retry that is not yet due (a second's grace to show it reach "Retrying 2/5").
const retrying = (r, now) => r.phase === 'retrying' && PHASED.has(r.status) && r.next_attempt_at != null
  && Date.parse(r.next_attempt_at) > now - 1000;

const MIN_REDRAW_MS = 500;
const PAGE = 100; // rows shown at first, and added by each "Show more"
const sizeOf = (r) => r.total_bytes ?? r.progress?.total_bytes ?? null;
const SORTERS = {
  filename: (r) => (r.filename || r.url || '').toLowerCase(),
  size: (r) => sizeOf(r) ?? -1,
  progress: (r) => r.progress?.percentage ?? 0,
  status: (r) => STATUSES.indexOf(r.status),
  speed: (r) => r.progress?.speed ?? 0,
  eta: (r) => r.progress?.eta ?? Infinity,
  priority: (r) => -(r.priority ?? 0) * 1e12 + (r.position ?? 0),
  added: (r) => r.created_at || '',
};

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('aria-') || k === 'role') e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}
function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

export class QueueTable {
  constructor(model, { tbody, empty, more, onAction, onSelection, onRender }) {
    this.model = model;
    this.limit = PAGE;
    this.more = more;
    this.onRender = onRender;
    this.tbody = tbody;
    this.empty = empty;
    this.onAction = onAction;
    this.onSelection = onSelection;
    this.filter = 'all';
    this.search = '';
    this.sort = { key: 'priority', dir: 1 };
    this.live = false; // speeds and ETAs only while connected
    this.selected = new Set();
    this.elements = new Map();
    this.scheduled = false;
    this.detached = false; // set on sign-out: this table draws nothing more
  }

  showMore() { this.limit += PAGE; this.render(); }

  /**
   * A redraw after events: at most two a second (progress comes about twice a second per
   * download; a table redrawn on every frame costs a core), on an animation frame (none while
   * the tab is hidden). What the user does (filter, sort, search) redraws at once.
   */
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = Math.max(0, (this.lastRender ?? 0) + MIN_REDRAW_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => { this.scheduled = false; this.render(); }), wait);
  }

  visibleRows() {
    const q = this.search.trim().toLowerCase();
    const rows = [...this.model.rows.values()].filter((r) =>
      (this.filter === 'all' || r.status === this.filter)
      && (!q || (r.filename || '').toLowerCase().includes(q) || (r.url || '').toLowerCase().includes(q)));
    const key = SORTERS[this.sort.key] ?? SORTERS.priority;
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * this.sort.dir || (a.position ?? 0) - (b.position ?? 0);
    });
    return rows;
  }

  render() {
    if (this.detached) return;
    this.lastRender = performance.now();
    const all = this.visibleRows();
    // A long queue is shown a hundred rows at a time: a browser repaints the whole table on
    // a change, so its cost grows with the rows shown (500 rows: most of a core in headless
    // Chromium; 100: a sixth); "Show more" extends it.
    const rows = all.length > this.limit ? all.slice(0, this.limit) : all;
    this.more.hidden = all.length <= this.limit;
    this.more.textContent = t('showMore', Math.min(PAGE, all.length - this.limit), all.length - this.limit);
    for (const id of [...this.selected]) if (!this.model.rows.has(id)) this.selected.delete(id);
    for (const [id, tr] of this.elements) {
      if (!this.model.rows.has(id)) { tr.remove(); this.elements.delete(id); }
    }
    const wanted = new Set(rows.map((r) => r.id));
    for (const [id, tr] of this.elements) if (!wanted.has(id) && tr.parentNode) tr.remove();
    let previous = null;
    for (const row of rows) {
      let tr = this.elements.get(row.id);
      if (!tr) { tr = this.create(row); this.elements.set(row.id, tr); }
      this.update(tr, row);
      const expected = previous ? previous.nextSibling : this.tbody.firstChild;
      if (expected !== tr) this.tbody.insertBefore(tr, expected);
      previous = tr;
    }
    this.empty.hidden = rows.length > 0;
    this.onSelection(this.selected);
    this.onRender?.();
    this.tickRetries();
  }

  create(row) {
    const c = {};
    c.check = el('input', { type: 'checkbox' });
    c.check.addEventListener('change', () => {
      if (c.check.checked) this.selected.add(row.id); else this.selected.delete(row.id);
      this.onSelection(this.selected);
    });
    c.name = el('span', { className: 'name' });
    c.url = el('span', { className: 'url' });
    c.size = el('td', { className: 'num size' });
    // A value from the start: a <progress> without one is indeterminate (an animated bar).
    c.bar = el('progress', { max: 100, value: 0 });
    c.pct = el('span', { className: 'pct' });
    c.status = el('span', { className: 'badge' });
    c.detail = el('span', { className: 'detail' });
    c.speed = el('td', { className: 'num speed' });
    c.eta = el('td', { className: 'num eta' });
    c.prio = el('button', { type: 'button', className: 'prio-edit' });
    c.prio.addEventListener('click', () => this.onAction('priority', [row.id], c.prio));
    c.priority = el('td', { className: 'num prio' }, c.prio);
    c.added = el('td', { className: 'added' });
    c.buttons = {};
    const actions = el('td', { className: 'actions' });
    for (const action of ['pause', 'resume', 'cancel', 'retry', 'remove']) {
      const b = el('button', { type: 'button', textContent: t(action), dataset: { action } });
      b.addEventListener('click', () => this.onAction(action, [row.id], b));
      c.buttons[action] = b;
      actions.append(b);
    }
    const tr = el('tr', { dataset: { id: row.id } },
      el('td', { className: 'sel' }, c.check),
      el('td', { className: 'file' }, c.name, c.url),
      c.size,
      el('td', { className: 'prog' }, c.bar, c.pct),
      el('td', { className: 'status' }, c.status, c.detail),
      c.speed, c.eta, c.priority, c.added, actions);
    tr.cells$ = c;
    return tr;
  }

  update(tr, row) {
    const c = tr.cells$;
    // Unchanged since the last draw: nothing to touch (a progress event redraws one row).
    const selected = this.selected.has(row.id);
    if (tr.drawn$ === row.$v && tr.live$ === this.live && tr.selected$ === selected) return;
    tr.drawn$ = row.$v;
    tr.live$ = this.live;
    tr.selected$ = selected;
    const name = row.filename || row.url || row.id;
    setText(c.name, name);
    setText(c.url, row.url && row.url !== name ? row.url : '');
    c.check.checked = selected;
    c.check.setAttribute('aria-label', t('select', name));
    setText(c.size, bytes(sizeOf(row)));
    const pct = row.progress?.percentage ?? (row.status === 'completed' ? 100 : 0);
    if (c.bar.value !== pct) c.bar.value = pct;
    c.bar.setAttribute('aria-label', `${t('progress')} ${name}`);
    setText(c.pct, percent(pct));
    tr.dataset.status = row.status;
    setText(c.status, t(row.status));
    setText(c.detail, this.detail(row));
    const running = row.status === 'downloading';
    setText(c.speed, this.live && running ? rate(row.progress?.speed) : DASH);
    setText(c.eta, this.live && running ? duration(row.progress?.eta) : DASH);
    c.speed.dataset.label = t('speed');
    c.eta.dataset.label = t('eta');
    c.size.dataset.label = t('size');
    setText(c.prio, String(row.priority ?? 0));
    c.prio.setAttribute('aria-label', `${t('priority')} ${row.priority ?? 0}: ${name}`);
    setText(c.added, date(row.created_at));
    for (const [action, statuses] of Object.entries(ACTIONS)) c.buttons[action].hidden = !statuses.includes(row.status);
    for (const b of Object.values(c.buttons)) b.setAttribute('aria-label', `${b.textContent}: ${name}`);
  }

  detail(row) {
    const extras = Object.entries(row)
      .filter(([k, v]) => !KNOWN.has(k) && !k.startsWith('$') && v != null && typeof v !== 'object' && v !== '')
      .map(([k, v]) => `${k}: ${v}`);
    const phase = PHASED.has(row.status) ? phaseText(row) : '';
    return [phase, row.error_message, row.note, ...extras,
      row.attempts > 1 && row.phase !== 'retrying' ? t('attempts', row.attempts) : null].filter(Boolean).join(' · ');
  }

  /**
   * The countdown of "Retrying 2/5 in 8 s": one page-wide 1 s tick, running only while a
   * row is waiting for its next attempt; it redraws just those rows' detail.
   */
  tickRetries() {
    const now = Date.now();
    const waiting = [...this.model.rows.values()].filter((r) => retrying(r, now));
    if (!waiting.length || this.detached) { clearInterval(this.ticker); this.ticker = 0; return; }
    if (!this.ticker) this.ticker = setInterval(() => this.tickRetries(), 1000);
    for (const row of waiting) {
      const tr = this.elements.get(row.id);
      if (tr?.parentNode) setText(tr.cells$.detail, this.detail(row));
    }
  }

  selectAll(on) {
    for (const row of this.visibleRows()) { if (on) this.selected.add(row.id); else this.selected.delete(row.id); }
    this.render();
  }
}
