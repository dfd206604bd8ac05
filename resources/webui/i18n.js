// English and German, like the monitor; the browser's language picks one.

const en = {
  connected: 'Connected', connecting: 'Connecting…', disconnected: 'Disconnected',
  reconnecting: 'Reconnecting (attempt {0})', nextTry: 'next try in {0} s',
  reconnectNow: 'Reconnect now', signOut: 'Sign out',
  reasonRejected: 'the API key was rejected', reasonClosed: 'closed', reasonForbidden: 'access denied',
  serverBusy: 'Server busy (HTTP {0})', offline: 'Offline — retrying every 30 s',
  signInTitle: 'Sign in', signInHelp: 'Enter an API key of this server (HERMES_API_KEYS).',
  apiKey: 'API key', remember: 'Remember on this device', signIn: 'Sign in',
  wrongKey: 'The server rejected this API key. Check it and try again.',
  emptyKey: 'Enter an API key.', unreachable: 'Cannot reach the server ({0}).',
  revoked: 'Your API key is no longer accepted. Sign in again.',
  statusFilter: 'Status filter', search: 'Search', add: 'Add', downloads: 'Downloads',
  selectAll: 'Select all', select: 'Select {0}', name: 'Name', size: 'Size', progress: 'Progress',
  status: 'Status', speed: 'Speed', speedTitle: 'Download speed', eta: 'ETA', priority: 'Priority', added: 'Added',
  actions: 'Actions', empty: 'No downloads.', notifications: 'Notifications',
  all: 'All', pending: 'Pending', downloading: 'Downloading', processing: 'Processing',
  paused: 'Paused', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled',
  pause: 'Pause', resume: 'Resume', cancel: 'Cancel', retry: 'Retry', remove: 'Remove',
  addTitle: 'Add downloads', urls: 'URLs (one per line)', filename: 'File name (one URL only)',
  sha256: 'SHA-256 (one URL only)',
  close: 'Close', removeTitle: 'Remove', keepFile: 'Remove, keep the file',
  deleteFile: 'Remove and delete the file', removeText: 'Remove {0} download(s)?',
  priorityHelp: 'Priority (−1000 to 1000; higher runs first)', set: 'Set',
  selected: '{0} selected', staleList: 'The list may be out of date: {0}. Retrying…',
  noUrl: 'Enter at least one URL.', badSha: 'SHA-256 must be 64 hexadecimal digits.', addedBefore: '{0} before it were added.',
  showMore: 'Show {0} more ({1} not shown)', actionFailed: '{0} failed: {1}', skipped: '{0} skipped: {1}', attempts: 'attempt {0}',
  phaseWaiting: 'Waiting for a connection', phaseConnecting: 'Connecting', phaseStalled: 'Stalled',
  retryingIn: 'Retrying {0} in {1}', retrying: 'Retrying {0}',
};

const de = {
  connected: 'Verbunden', connecting: 'Verbinde…', disconnected: 'Getrennt',
  reconnecting: 'Verbinde erneut (Versuch {0})', nextTry: 'nächster Versuch in {0} s',
  reconnectNow: 'Jetzt verbinden', signOut: 'Abmelden',
  reasonRejected: 'der API-Schlüssel wurde abgelehnt', reasonClosed: 'geschlossen', reasonForbidden: 'Zugriff verweigert',
  serverBusy: 'Server ausgelastet (HTTP {0})', offline: 'Offline — neuer Versuch alle 30 s',
  signInTitle: 'Anmelden', signInHelp: 'Geben Sie einen API-Schlüssel dieses Servers ein (HERMES_API_KEYS).',
  apiKey: 'API-Schlüssel', remember: 'Auf diesem Gerät merken', signIn: 'Anmelden',
  wrongKey: 'Der Server hat diesen API-Schlüssel abgelehnt. Bitte prüfen und erneut versuchen.',
  emptyKey: 'Bitte einen API-Schlüssel eingeben.', unreachable: 'Server nicht erreichbar ({0}).',
  revoked: 'Ihr API-Schlüssel wird nicht mehr akzeptiert. Bitte erneut anmelden.',
  statusFilter: 'Statusfilter', search: 'Suchen', add: 'Hinzufügen', downloads: 'Downloads',
  selectAll: 'Alle auswählen', select: '{0} auswählen', name: 'Name', size: 'Größe', progress: 'Fortschritt',
  // The monitor's abbreviation: the whole word pushes into the next column at 1280 px.
  status: 'Status', speed: 'Geschw.', speedTitle: 'Download-Geschwindigkeit', eta: 'Restzeit', priority: 'Priorität', added: 'Hinzugefügt',
  actions: 'Aktionen', empty: 'Keine Downloads.', notifications: 'Benachrichtigungen',
  all: 'Alle', pending: 'Wartend', downloading: 'Lädt', processing: 'Verarbeitung',
  paused: 'Pausiert', completed: 'Fertig', failed: 'Fehlgeschlagen', cancelled: 'Abgebrochen',
  pause: 'Pausieren', resume: 'Fortsetzen', cancel: 'Abbrechen', retry: 'Wiederholen', remove: 'Entfernen',
  addTitle: 'Downloads hinzufügen', urls: 'URLs (eine pro Zeile)', filename: 'Dateiname (nur bei einer URL)',
  sha256: 'SHA-256 (nur bei einer URL)',
  close: 'Schließen', removeTitle: 'Entfernen', keepFile: 'Entfernen, Datei behalten',
  deleteFile: 'Entfernen und Datei löschen', removeText: '{0} Download(s) entfernen?',
  priorityHelp: 'Priorität (−1000 bis 1000; höhere zuerst)', set: 'Setzen',
  selected: '{0} ausgewählt', staleList: 'Die Liste ist eventuell veraltet: {0}. Neuer Versuch…',
  noUrl: 'Bitte mindestens eine URL eingeben.', badSha: 'SHA-256 muss aus 64 Hexadezimalziffern bestehen.', addedBefore: '{0} davor wurden hinzugefügt.',
  showMore: '{0} weitere zeigen ({1} nicht gezeigt)', actionFailed: '{0} fehlgeschlagen: {1}', skipped: '{0} übersprungen: {1}', attempts: 'Versuch {0}',
  phaseWaiting: 'Wartet auf eine Verbindung', phaseConnecting: 'Verbindet', phaseStalled: 'Stockt',
  retryingIn: 'Neuer Versuch {0} in {1}', retrying: 'Neuer Versuch {0}',
};

const params = new URLSearchParams(location.search);
export const lang = (params.get('lang') || navigator.language || 'en').toLowerCase().startsWith('de') ? 'de' : 'en';
const table = lang === 'de' ? de : en;

export function t(key, ...args) {
  const s = table[key] ?? en[key] ?? key;
  return s.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
}

/** Fills data-i18n (text), data-i18n-label (aria-label), data-i18n-title and data-i18n-placeholder. */
export function translatePage(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
const number1 = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'short' });
export const DASH = '—';

export function bytes(n) {
  if (n == null || !Number.isFinite(n) || n < 0) return DASH;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${number1.format(n)} ${units[i]}`;
}
export const rate = (n) => (n == null || !(n > 0) ? DASH : `${bytes(n)}/s`);
export function duration(s) {
  if (s == null || !Number.isFinite(s) || s < 0) return DASH;
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${sec} s` : `${sec} s`;
}
export function date(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? dateTime.format(d) : DASH;
}
export const percent = (p) => `${number1.format(p ?? 0)} %`;

const PHASES = { waiting_for_connection: 'phaseWaiting', connecting: 'phaseConnecting', stalled: 'phaseStalled' };
const integer = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
/**
 * What a download does within its status, in the monitor's words: "Retrying 2/5 in 8 s",
 * "Stalled", …; '' for transferring or none; a phase this page does not know, as it is sent.
 */
export function phaseText(row, now = Date.now()) {
  const phase = row.phase;
  if (!phase || phase === 'transferring') return '';
  if (PHASES[phase]) return t(PHASES[phase]);
  if (phase !== 'retrying') return String(phase);
  const attempt = row.attempt ?? (row.attempts ?? 0) + 1;
  const which = row.max_attempts ? `${integer.format(attempt)}/${integer.format(row.max_attempts)}` : integer.format(attempt);
  const due = row.next_attempt_at ? Date.parse(row.next_attempt_at) : NaN;
  const secs = Number.isFinite(due) ? Math.ceil((due - now) / 1000) : 0;
  return secs > 0 ? t('retryingIn', which, duration(secs)) : t('retrying', which);
}
