"""Public/event-stream.js (server-sent events over fetch) in headless Chromium, against a small
server that sends what the gateway never would all at once: a byte order mark, CRLF and lone CR
line ends split across writes, comments, multi-line data, an event cut off by a drop, `retry:`,
and refusals. No gateway or InvokeAI needed.
"""

import json
import os
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from browser_support import ROOT, BrowserCase

# The first connection's stream, one write per item, a pause between them.
FIRST = [
    "\ufeffretry: 300\r",
    "\n: a comment\r\n\r\n",
    "event: a\r\nid: 7\r\ndata: one\r",
    "\ndata: two\r\n\r",
    "\nevent: b\ndata: {\"x\": 1}\n\n",
    "event: c\rdata:no space\r\r",
    "event: lost\ndata: cut off by the drop",
]


class SSEServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SSEHandler)
        self.connections = []  # (path, time, Authorization, Last-Event-ID)


class SSEHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/":
            return self.answer(200, "text/html", b"<!doctype html><title>events</title><script src=\"/event-stream.js\"></script>")
        if self.path == "/event-stream.js":
            with open(os.path.join(ROOT, "Public", "event-stream.js"), "rb") as f:
                return self.answer(200, "text/javascript", f.read())
        self.server.connections.append((self.path, time.monotonic(), self.headers.get("Authorization"),
                                        self.headers.get("Last-Event-ID")))
        if self.path == "/refused":
            return self.answer(401, "application/problem+json", json.dumps({"status": 401, "detail": "no"}).encode())
        if self.path.startswith("/ended"):
            # An ended run's stream as the gateway answers it: the end, then 204 to a resume after it.
            if self.headers.get("Last-Event-ID") == "9":
                self.send_response(204)
                self.send_header("Cache-Control", "no-store")
                return self.end_headers()
            return self.answer(200, "text/event-stream", b"retry: 200\n\nevent: d\nid: 9\ndata: ended\n\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        first = sum(1 for c in self.server.connections if c[0] == self.path) == 1
        for part in FIRST if first else ["event: d\ndata: resumed\n\n"]:
            self.wfile.write(part.encode())
            self.wfile.flush()
            time.sleep(0.05)
        if not first:
            time.sleep(5)  # stays open: no third connection while the test looks

    def answer(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class EventStreamTest(BrowserCase):
    @classmethod
    def setUpClass(cls):
        cls.server = SSEServer()
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.server.shutdown()

    def start(self, path):
        self.driver.get(self.base + "/")
        self.driver.execute_script("""
            window.got = []; window.refusals = []; window.errors = 0;
            window.stream = new EventStream(arguments[0], {
              headers: {Authorization: "Bearer test-key"},
              onRefused: (status, body) => refusals.push([status, body.detail]),
            });
            for (const type of ["message", "a", "b", "c", "d", "lost"]) {
              stream.addEventListener(type, (m) => got.push([m.type, m.data, m.lastEventId]));
            }
            stream.addEventListener("error", () => errors++);
        """, path)

    def test_parses_the_stream_and_resumes_after_a_drop_with_last_event_id(self):
        self.start("/stream")
        self.wait_for(lambda d: len(d.execute_script("return got")) >= 4, "the events before and after the drop")
        got = self.driver.execute_script("stream.close(); return got")
        self.assertEqual(got, [
            ["a", "one\ntwo", "7"],
            ["b", '{"x": 1}', "7"],
            ["c", "no space", "7"],
            ["d", "resumed", "7"],
        ])
        first, second = [c for c in self.server.connections if c[0] == "/stream"][:2]
        self.assertEqual(first[2], "Bearer test-key")
        self.assertIsNone(first[3])
        self.assertEqual(second[2], "Bearer test-key")
        self.assertEqual(second[3], "7")
        # The reconnection waited the server's retry: advice (300 ms) after the drop (the first
        # stream took 7 × 50 ms).
        self.assertGreaterEqual(second[1] - first[1], 0.35 + 0.3 - 0.05)
        self.assertGreaterEqual(self.driver.execute_script("return errors"), 1)

    def test_204_after_the_end_closes_the_stream_as_it_closes_an_eventsource(self):
        for path, opener in (("/ended-fetch", "stream"), ("/ended-native", "native")):
            self.driver.get(self.base + "/")
            self.driver.execute_script("""
                window.got = []; window.refusals = [];
                window.source = arguments[1] === "native" ? new EventSource(arguments[0])
                    : new EventStream(arguments[0], {onRefused: (status) => refusals.push(status)});
                source.addEventListener("d", (m) => got.push([m.data, m.lastEventId]));
            """, path, opener)
            self.wait_for(lambda d: len([c for c in self.server.connections if c[0] == path]) >= 2, "the resume")
            time.sleep(1)  # five times the retry advice: a third connection would be here by now
            self.assertEqual(len([c for c in self.server.connections if c[0] == path]), 2, path)
            self.assertEqual(self.driver.execute_script("return got"), [["ended", "9"]])
            if opener == "native":
                self.assertEqual(self.driver.execute_script("return source.readyState"), 2)  # CLOSED
            else:
                self.assertTrue(self.driver.execute_script("return source.closed"))
                self.assertEqual(self.driver.execute_script("return refusals"), [])

    def test_a_refusal_ends_the_stream_and_is_handed_over(self):
        self.start("/refused")
        self.wait_for(lambda d: d.execute_script("return refusals.length"), "the refusal")
        self.assertEqual(self.driver.execute_script("return refusals"), [[401, "no"]])
        time.sleep(3.5)  # longer than the 3 s a stream waits before the server has said
        self.assertEqual(len([c for c in self.server.connections if c[0] == "/refused"]), 1)
        self.assertEqual(self.driver.execute_script("return got"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
