// The event stream, with the monitor's reconnect rules (monitor/client/streamstatetable.h).
//
// Read with fetch() rather than EventSource: EventSource hides the HTTP status (a revoked key's
// 401 looks like any network error), the Retry-After of a 429/503 and the `retry:` field, and
// reconnects on its own with the URL — and so the token — it started with. Here every
// (re)connection mints or reuses a fresh token and passes the last event id with it.
//
// States: connecting (first attempt), connected, reconnecting (attempt N, next try at T),
// disconnected (with a reason). A stream the server ends cleanly after it ran ≥ 1 s and
// delivered events is a planned renewal (connection timeout, rotation): the next one opens at
// once and the state stays connected; only if that fails does it show reconnecting.

import { Backoff } from './backoff.js';
import { SseParser } from './sse.js';

const STABLE_MS = 10000;        // connected this long: the attempts start again from zero
const MIN_RENEWABLE_MS = 1000;
const CONNECT_TIMEOUT_MS = 10000; // the monitor's: an answer's head must come by then

export class EventStream {
  constructor(api, { onState, onEvent, onRevoked, tokenTtl = 300 }) {
    this.api = api;
    this.onState = onState;
    this.onEvent = onEvent;
    this.onRevoked = onRevoked;
    this.tokenTtl = Math.min(Math.max(tokenTtl, 60), 3600);
    this.backoff = new Backoff();
    this.attempt = 0;
    this.lastEventId = null;
    this.token = null;
    this.tokenExpires = 0;
    this.tokenMints = 0;
    this.state = { state: 'disconnected', reason: '' };
    this.stopped = true;
    this.generation = 0;
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.setState({ state: 'connecting' });
    this.connect();
  }

  stop(reason = 'closed') {
    this.stopped = true;
    this.generation++;
    this.abort?.abort();
    clearTimeout(this.retryTimer);
    clearTimeout(this.renewTimer);
    clearTimeout(this.stableTimer);
    clearTimeout(this.watchdog);
    this.setState({ state: 'disconnected', reason });
  }

  /** "Reconnect now": a fresh attempt at once, the count starting again. */
  reconnectNow() {
    if (this.state.state === 'connected') return;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
    this.generation++;
    this.stopped = false;
    this.attempt = 0;
    this.setState({ state: 'connecting' });
    this.connect();
  }

  setState(s) {
    this.state = s;
    this.onState(s);
  }

  // ---- the token: minted for each stream, renewed before it expires ----

  async freshToken() {
    if (this.token && this.tokenExpires - Date.now() > 5000) return this.token;
    return this.mint();
  }

  async mint() {
    const answer = await this.api.mintToken(this.tokenTtl);
    this.token = answer.token;
    const ttlMs = (answer.ttl ?? this.tokenTtl) * 1000;
    this.tokenExpires = Date.now() + ttlMs;
    this.tokenMints++;
    // Renewed half-way, or a minute before it expires when that is later: an open stream
    // needs no token, but the next reconnect must not find only an expired one.
    clearTimeout(this.renewTimer);
    const renewIn = Math.max(ttlMs / 2, ttlMs - 60000);
    this.renewTimer = setTimeout(() => this.renew(), renewIn);
    return this.token;
  }

  async renew() {
    if (this.stopped) return;
    try {
      await this.mint();
    } catch (e) {
      if (e.status === 401) return this.revoked(e);
      // Not now (the server is away): the next connection mints its own.
      this.renewTimer = setTimeout(() => this.renew(), 5000);
    }
  }

  revoked(e) {
    this.stop('rejected');
    this.onRevoked(e);
  }

  // ---- one connection ----

  async connect() {
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.stopped;
    let token;
    try {
      token = await this.freshToken();
    } catch (e) {
      if (!current()) return;
      if (e.status === 401) return this.revoked(e);
      return this.lost(e.message, this.backoff.retryAfterMs(e.retryAfter));
    }
    if (!current()) return;
    const abort = new AbortController();
    this.abort = abort;
    const connectTimer = setTimeout(() => abort.abort(), CONNECT_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(this.api.streamUrl(token, this.lastEventId),
        { signal: abort.signal, cache: 'no-store', headers: { Accept: 'text/event-stream' } });
    } catch (e) {
      clearTimeout(connectTimer);
      if (current()) this.lost(abort.signal.aborted ? 'no answer' : (e.message || 'network error'));
      return;
    } finally {
      clearTimeout(connectTimer);
    }
    if (!current()) { abort.abort(); return; }
    if (response.status === 401) {
      // The token was refused (expired, or its key removed): a new one tells which.
      this.token = null;
      try { await this.mint(); } catch (e) {
        if (e.status === 401) return this.revoked(e);
      }
      return current() && this.lost('HTTP 401');
    }
    if (response.status === 403) return this.stop('forbidden');
    if (!response.ok || !(response.headers.get('Content-Type') || '').startsWith('text/event-stream')) {
      const busy = response.status === 503 || response.status === 429;
      return this.lost(busy ? { busy: response.status } : `HTTP ${response.status}`,
        busy ? this.backoff.retryAfterMs(response.headers.get('Retry-After')) : null);
    }
    await this.read(response, abort, current);
  }

  async read(response, abort, current) {
    const openedAt = Date.now();
    let events = 0;
    const parser = new SseParser((e) => {
      if (e.id) this.lastEventId = e.id;
      events++;
      this.armWatchdog(abort);
      this.dispatch(e);
    }, (ms) => this.backoff.setServerRetry(ms));
    this.setState({ state: 'connected' });
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => { this.attempt = 0; }, STABLE_MS);
    this.armWatchdog(abort);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let failure = null;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.armWatchdog(abort);
        parser.push(value);
      }
    } catch (e) {
      failure = abort.signal.aborted ? (this.watchdogFired ? 'no data from the server' : 'aborted') : (e.message || 'connection lost');
    }
    clearTimeout(this.watchdog);
    clearTimeout(this.stableTimer);
    if (!current()) return;
    const ranMs = Date.now() - openedAt;
    if (!failure && ranMs >= MIN_RENEWABLE_MS && events > 0) {
      // A planned end: the next stream at once, still "connected".
      this.connect();
      return;
    }
    this.lost(failure || 'the server ended the stream');
  }

  armWatchdog(abort) {
    clearTimeout(this.watchdog);
    this.watchdogFired = false;
    if (!this.heartbeatMs) return;
    this.watchdog = setTimeout(() => { this.watchdogFired = true; abort.abort(); }, this.heartbeatMs * 2.5);
  }

  dispatch(e) {
    let data = null;
    try { data = e.data ? JSON.parse(e.data) : null; } catch { return; }
    // The envelope style ({"type","data","timestamp"}) by default; the named style too.
    let type = e.type, payload = data, timestamp = null;
    if (data && typeof data === 'object' && typeof data.type === 'string' && 'data' in data) {
      type = data.type; payload = data.data; timestamp = data.timestamp ?? null;
    }
    if (type === 'connected') {
      const hb = Number(payload?.heartbeat_interval);
      this.heartbeatMs = hb > 0 && hb <= 86400 ? hb * 1000 : 0;
    }
    this.onEvent(type, payload ?? {}, { id: e.id, timestamp });
  }

  lost(why, delayOverride = null) {
    if (this.stopped) return;
    this.attempt++;
    const delay = delayOverride ?? this.backoff.delayMs(this.attempt);
    const reason = typeof why === 'object' ? why : { message: why };
    this.setState({ state: 'reconnecting', attempt: this.attempt, nextAt: Date.now() + delay, ...reason });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
