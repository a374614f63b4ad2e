// Server-sent events read with fetch() and a stream reader instead of EventSource, which cannot
// send headers: an API key would otherwise have to go in the URL (and so into logs and history).
// It parses the stream as the WHATWG rules say (event, data, id, retry, comments; CRLF, LF or CR
// line ends) and reconnects as EventSource does: after a drop it waits the server's `retry:`
// advice and resumes with Last-Event-ID. Listeners are added as on an EventSource:
// `stream.addEventListener("run.started", (message) => JSON.parse(message.data))`, plus "open"
// and "error" (each drop). An HTTP refusal ends the stream and goes to `onRefused(status, body)`,
// except 429 and 503, which are tried again after their Retry-After. 204 No Content ends it as it
// ends an EventSource (an ended run's stream resumed after its end): "error", then closed.
"use strict";

class EventStream extends EventTarget {
  constructor(url, { headers = {}, onRefused = () => {} } = {}) {
    super();
    this.url = url;
    this.headers = headers;
    this.onRefused = onRefused;
    this.lastEventId = "";
    this.retry = 3000; // what browsers wait before the server has said
    this.closed = false;
    this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  async connect() {
    if (this.closed) return;
    this.controller = new AbortController();
    const headers = { Accept: "text/event-stream", ...this.headers };
    if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
    try {
      const response = await fetch(this.url, { headers, cache: "no-store", signal: this.controller.signal });
      const type = response.headers.get("Content-Type") || "";
      if (response.status === 204) {
        this.closed = true;
        this.dispatchEvent(new Event("error"));
        return;
      }
      if (!response.ok || !type.startsWith("text/event-stream")) return this.refused(response);
      this.dispatchEvent(new Event("open"));
      await this.read(response.body.pipeThrough(new TextDecoderStream()).getReader());
    } catch {
      // A network error or a drop mid-stream: reconnect, below.
    }
    this.reconnectAfter(this.retry);
  }

  async refused(response) {
    const body = await response.json().catch(() => ({}));
    if (response.status === 429 || response.status === 503) {
      const seconds = Number(response.headers.get("Retry-After")) || 0;
      return this.reconnectAfter(Math.max(this.retry, seconds * 1000));
    }
    this.closed = true;
    this.dispatchEvent(new Event("error"));
    this.onRefused(response.status, body);
  }

  reconnectAfter(milliseconds) {
    if (this.closed) return;
    this.dispatchEvent(new Event("error"));
    if (!this.closed) this.timer = setTimeout(() => this.connect(), milliseconds);
  }

  // Reads one connection to its end; an event not ended by a blank line is dropped with it.
  async read(reader) {
    const event = { type: "", data: "", id: this.lastEventId };
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.closed) return;
      let text = rest + value;
      // A CR that ends this chunk may be the first half of a CRLF: keep it for the next one.
      const heldCR = text.endsWith("\r");
      if (heldCR) text = text.slice(0, -1);
      const lines = text.split(/\r\n|\r|\n/);
      rest = lines.pop() + (heldCR ? "\r" : "");
      for (const line of lines) {
        this.line(line, event);
        if (this.closed) return;
      }
    }
  }

  line(line, event) {
    if (line === "") return this.dispatch(event);
    if (line.startsWith(":")) return; // a comment (the gateway's heartbeats)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event.type = value;
    else if (field === "data") event.data += value + "\n";
    else if (field === "id" && !value.includes("\0")) event.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }

  dispatch(event) {
    this.lastEventId = event.id;
    const { type, data } = event;
    event.type = "";
    event.data = "";
    if (data === "") return;
    this.dispatchEvent(new MessageEvent(type || "message", { data: data.slice(0, -1), lastEventId: event.id, origin: location.origin }));
  }
}
