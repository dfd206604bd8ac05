// The monitor's backoff (shared/reconnectbackoff.h): 1 s doubling to 30 s with equal jitter
// for 10 fast attempts, then every 30 s ± 20 % for as long as the page is open. A server's
// `retry:` replaces the base (never below 500 ms); a 429/503's Retry-After is honoured plus
// up to 50 % jitter, so the clients turned away together do not come back together.

export class Backoff {
  constructor(random = Math.random) {
    this.random = random;
    this.baseMs = 1000;
    this.capMs = 30000;
    this.fastAttempts = 10;
    this.serverRetryMs = -1;
  }

  setServerRetry(ms) {
    this.serverRetryMs = ms < 0 ? -1 : Math.min(Math.max(ms, 500), this.capMs);
  }

  /** The delay before attempt n (1-based). */
  delayMs(attempt) {
    if (attempt > this.fastAttempts) return this.capMs * (0.8 + 0.4 * this.random());
    const base = this.serverRetryMs >= 0 ? this.serverRetryMs : this.baseMs;
    const bound = Math.max(base, Math.min(this.capMs, base * 2 ** (attempt - 1)));
    return bound / 2 + (bound / 2) * this.random();
  }

  /** Retry-After (seconds or an HTTP date) → ms with jitter; null when unparsable. */
  retryAfterMs(value, now = Date.now()) {
    if (value == null) return null;
    let seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - now) / 1000;
    if (!Number.isFinite(seconds)) return null;
    seconds = Math.min(Math.max(seconds, 1), 3600);
    return seconds * 1000 * (1 + 0.5 * this.random());
  }
}
