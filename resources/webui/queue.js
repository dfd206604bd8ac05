// The downloads the page shows, by id: loaded over REST (merged, never replaced wholesale, so
// selection and scroll stay) and kept current by the events of the stream.

export const STATUSES = ['pending', 'downloading', 'processing', 'paused', 'completed', 'failed', 'cancelled'];

// What the events carry: a REST answer older than the row's newest event leaves these alone.
const EVENT_FIELDS = new Set(['status', 'progress', 'downloaded_bytes', 'total_bytes', 'speed', 'eta',
  'error_message', 'note', 'attempts', 'result', 'phase', 'attempt', 'max_attempts', 'next_attempt_at',
  'updated_at', 'completed_at']);
/** An ISO time as ms; 0 when absent or unparsable (older than anything). */
const stamp = (iso) => (iso ? Date.parse(iso) || 0 : 0);

// Each row carries $v, raised on every change, so the table redraws only the rows that changed.
export class QueueModel {
  constructor(onChange) {
    this.rows = new Map();
    this.onChange = onChange;
    this.snapshotLoads = 0;
    // Removed since the last list: a fetch of one that was on its way when the removal came
    // must not bring it back.
    this.removed = new Set();
  }

  /** A full list from REST: rows absent from it go, the others are updated in place. */
  merge(items) {
    const seen = new Set();
    for (const item of items) {
      seen.add(item.id);
      const row = this.rows.get(item.id);
      if (row) Object.assign(row, item, { $v: row.$v + 1, $t: stamp(item.updated_at) });
      else this.rows.set(item.id, { ...item, $v: 1, $t: stamp(item.updated_at) });
    }
    for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.rows.delete(id);
    this.removed.clear();
    this.snapshotLoads++;
    this.onChange();
  }

  /** A download fetched over REST because an event named it. */
  upsertFetched(item) {
    if (!this.removed.has(item.id)) this.upsert(item);
  }

  /** The follow-up fetch of an id an event named answered 404: the placeholder goes. */
  forget(id) {
    this.removed.add(id);
    if (this.rows.delete(id)) this.onChange();
  }

  /**
   * One download over REST (a fetch, the answer to an add). It may be older than events
   * already applied to its row ($t: the newest event's timestamp or updated_at seen): then
   * only what events do not carry is taken from it (as the monitor's DownloadRowTable::upsert),
   * and fields the row has never had.
   */
  upsert(item) {
    const row = this.rows.get(item.id);
    const t = stamp(item.updated_at);
    if (!row) this.rows.set(item.id, { ...item, $v: 1, $t: t });
    else if (t >= row.$t) Object.assign(row, item, { $v: row.$v + 1, $t: t });
    else {
      for (const [k, v] of Object.entries(item)) {
        if (!EVENT_FIELDS.has(k) || !(k in row)) row[k] = v;
      }
      row.$v++;
    }
    this.onChange();
  }

  /**
   * One event. Returns the id of a download this page has not seen, to be fetched over REST.
   * `olderThan` (an event's timestamp, given for events that arrived while a list was being
   * read): an event older than the row's updated_at would put an older state back.
   * `timestamp` (the event's): kept as the row's $t, so an older REST answer cannot undo it.
   */
  apply(type, data, olderThan = null, timestamp = olderThan) {
    const id = data?.download_id;
    if (!id) return null;
    const row = this.rows.get(id);
    if (row && olderThan && row.updated_at && Date.parse(olderThan) < Date.parse(row.updated_at)) return null;
    // After its removal, a late event of it must not bring it back as a placeholder.
    if (!row && this.removed.has(id)) return null;
    const t = stamp(timestamp);
    if (row && t > row.$t) row.$t = t;
    if (type === 'download_progress') {
      // Every field the event carries, known or not (a newer server's phase, reason, …).
      const { download_id: _, progress, ...fields } = data;
      const target = row ?? { id, created_at: null, priority: 0, position: 0, $v: 0, $t: t };
      Object.assign(target, fields);
      target.$v++;
      if (progress) {
        target.progress = { ...(target.progress ?? {}), ...progress };
        target.downloaded_bytes = progress.downloaded_bytes ?? target.downloaded_bytes;
        if (progress.total_bytes != null) target.total_bytes = progress.total_bytes;
      }
      if (!row) this.rows.set(id, target);
      this.onChange();
      return row ? null : id;
    }
    if (type === 'queue_update') {
      if (data.action === 'removed') { this.forget(id); return null; }
      if (!row) return id; // added (or news of one we missed): fetch it whole
      if (data.status) row.status = data.status;
      for (const key of ['priority', 'position']) if (data[key] != null) row[key] = data[key];
      row.$v++;
      this.onChange();
    }
    return null;
  }

  counts() {
    const counts = { all: this.rows.size };
    for (const s of STATUSES) counts[s] = 0;
    for (const row of this.rows.values()) counts[row.status] = (counts[row.status] ?? 0) + 1;
    return counts;
  }
}
