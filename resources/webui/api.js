// REST with the API key in the Authorization header. Paths are relative to /ui/, so the page
// also works behind a proxy that serves Hermes under a path prefix.

const BASE = new URL('../api/v1/', location.href);
const REQUEST_TIMEOUT_MS = 20000;

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;   // 0: no answer (network)
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export class Api {
  constructor(key, onUnauthorized) {
    this.key = key;
    this.onUnauthorized = onUnauthorized; // a 401 on any call: the key was revoked
  }

  async call(method, path, body) {
    let response;
    try {
      response = await fetch(new URL(path, BASE), {
        method,
        headers: {
          Authorization: `Bearer ${this.key}`,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        cache: 'no-store',
        // A dead path answers nothing: give up, so the caller's retry can take a new one.
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      throw new ApiError(0, 'network', e.name === 'TimeoutError' ? 'no answer' : (e.message || String(e)));
    }
    if (response.status === 204) return null;
    let json = null;
    try { json = await response.json(); } catch { /* not JSON: the status says enough */ }
    if (!response.ok) {
      const err = json?.error ?? {};
      const failure = new ApiError(response.status, err.code ?? `http_${response.status}`,
        err.message ?? `HTTP ${response.status}`, response.headers.get('Retry-After'));
      if (response.status === 401 && this.onUnauthorized) this.onUnauthorized(failure);
      throw failure;
    }
    return json;
  }

  /**
   * Every download, page after page by keyset (`cursor` = each page's `next_cursor`, null on
   * the last): offset paging skipped a row that moved up the order meanwhile (a finished one
   * jumps to the end), and the merge then dropped it. A row whose place changes during the
   * walk may still be seen twice or not at all; its event, buffered during the load, says so.
   */
  async listAll(pageSize = 1000) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < 100000; page++) {
      const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const list = await this.call('GET', `downloads?limit=${pageSize}${query}`);
      items.push(...list.items);
      cursor = list.next_cursor ?? null;
      if (!cursor) break;
    }
    const seen = new Set();
    return items.filter((d) => !seen.has(d.id) && seen.add(d.id));
  }

  get(id) { return this.call('GET', `downloads/${encodeURIComponent(id)}`); }
  add(request) { return this.call('POST', 'downloads', request); }
  /** Several at once: a piece (at most 1,000 and 48 KiB: the server's default body limit is
   *  64 KiB) is one request and one transaction, all added or none, so sending the form again
   *  adds no duplicates; pieces go one after the other, and a refusal names its item as
   *  `downloads[i]` over the whole list, its `addedBefore` how many were added before it. */
  async addMany(requests) {
    const added = [];
    for (let first = 0; first < requests.length;) {
      const piece = [];
      for (let bytes = 0; first + piece.length < requests.length && piece.length < 1000;) {
        const size = JSON.stringify(requests[first + piece.length]).length + 1;
        if (piece.length && bytes + size > 48 * 1024) break;
        piece.push(requests[first + piece.length]);
        bytes += size;
      }
      try {
        added.push(...(await this.call('POST', 'downloads', { downloads: piece })).downloads);
      } catch (e) {
        const item = /^downloads\[(\d+)\]: (.*)$/s.exec(e.message);
        if (item) e.message = `downloads[${first + Number(item[1])}]: ${item[2]}`;
        e.addedBefore = first;
        throw e;
      }
      first += piece.length;
    }
    return added;
  }
  act(id, action) { return this.call('POST', `downloads/${encodeURIComponent(id)}/${action}`, {}); }
  setPriority(id, priority) { return this.call('POST', `downloads/${encodeURIComponent(id)}/priority`, { priority }); }
  bulk(action, ids, priority) {
    return this.call('POST', 'downloads/actions', { action, ids, ...(priority !== undefined ? { priority } : {}) });
  }
  remove(id, deleteFile) {
    return this.call('DELETE', `downloads/${encodeURIComponent(id)}?delete_file=${deleteFile ? 'true' : 'false'}`);
  }
  mintToken(ttl) { return this.call('POST', 'events/token', { scope: 'stream', ttl }); }
  streamUrl(token, lastEventId) {
    const url = new URL('events/stream', BASE);
    url.searchParams.set('token', token);
    // A new token means a new URL: the id the browser would send as Last-Event-ID goes in
    // the query, which the server takes when the header is absent.
    if (lastEventId) url.searchParams.set('lastEventId', lastEventId);
    return url;
  }
}
