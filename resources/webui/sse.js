// A text/event-stream parser (the WHATWG rules): lines, fields, events dispatched on a blank
// line, each with its own `id:` (the caller keeps the last one); `retry:` reported.

export class SseParser {
  constructor(onEvent, onRetry) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    this.buffer = '';
    this.skipLf = false;
    this.reset();
  }

  reset() { this.type = ''; this.data = []; this.id = null; }

  push(text) {
    // A CR ends a line at once; an LF right after it (even in the next chunk) belongs to it.
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLf = false;
    this.buffer += text;
    let start = 0;
    const eol = /[\r\n]/g;
    for (;;) {
      eol.lastIndex = start;
      if (!eol.test(this.buffer)) break;
      const end = eol.lastIndex - 1;
      const line = this.buffer.slice(start, end);
      if (this.buffer[end] === '\r') {
        if (end + 1 === this.buffer.length) this.skipLf = true;
        start = end + (this.buffer[end + 1] === '\n' ? 2 : 1);
      } else {
        start = end + 1;
      }
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  line(line) {
    if (line === '') {
      if (this.data.length || this.type) {
        this.onEvent({ type: this.type || 'message', data: this.data.join('\n'), id: this.id });
      }
      this.type = ''; this.data = []; this.id = null;
      return;
    }
    if (line.startsWith(':')) return; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}
