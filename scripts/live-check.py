#!/usr/bin/env python3
"""Check a live InvokeAI the way invokeai-gateway's live tests rely on it.

    scripts/invokeai-harness run -- python3 scripts/live-check.py

Reads the base URL from INVOKEAI_URL. Checks, in order:
  version        GET /api/v1/app/version answers 6.14.2
  model          the tiny model is listed as base sd-1, type main
  node-schemas   gateway_test_slow / gateway_test_fail are invocations in /openapi.json
  slow           gateway_test_slow (5 x 200 ms) completes with 5 progress events, twice
                 (the same graph runs again: the node does not use the cache)
  fail           gateway_test_fail ends `failed` with our error type and message
  cancel         a long gateway_test_slow is canceled while running (PUT .../i/{id}/cancel), ends
                 `canceled` promptly, reports no error, and the next queued item then runs
  sd15           InvokeAI's shipped "Text to Image - SD1.5" workflow, turned into a graph with
                 the tiny model at 64x64 and 4 steps, completes (twice: cold, then with the model
                 loaded) with denoising progress and previews and a 64x64 PNG

Events are followed over Socket.IO on /ws/socket.io (Engine.IO 4 over a small
WebSocket client written here: stdlib only). Prints one line per check and exits
non-zero if any check fails.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

QUEUE = "default"
TERMINAL = ("completed", "failed", "canceled")
ORIGIN = "live-check"
SD15_WORKFLOW_NAME = "Text to Image - SD1.5"


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --------------------------------------------------------------------------- REST


class InvokeAI:
    """Just enough of InvokeAI's REST API for these checks."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def request(self, method: str, path: str, body: object | None = None, timeout: float = 30.0) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:1500]
            raise CheckFailed(f"{method} {path} -> HTTP {error.code}: {detail}") from None

    def json(self, method: str, path: str, body: object | None = None) -> object:
        return json.loads(self.request(method, path, body) or b"null")

    def enqueue(self, graph: dict, destination: str) -> int:
        """Enqueue one run of `graph`; returns its queue item id."""
        result = self.json(
            "POST",
            f"/api/v1/queue/{QUEUE}/enqueue_batch",
            {"prepend": False, "batch": {"graph": graph, "runs": 1, "origin": ORIGIN, "destination": destination}},
        )
        expect(len(result["item_ids"]) == 1, f"expected one item, got {result['item_ids']}")
        return result["item_ids"][0]

    def item(self, item_id: int) -> dict:
        return self.json("GET", f"/api/v1/queue/{QUEUE}/i/{item_id}")

    def wait_item(self, item_id: int, timeout: float, statuses=TERMINAL) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            item = self.item(item_id)
            if item["status"] in statuses:
                return item
            if time.monotonic() > deadline:
                raise CheckFailed(f"queue item {item_id} still {item['status']} after {timeout:.0f} s")
            time.sleep(0.05)

    def cancel(self, item_id: int) -> dict:
        return self.json("PUT", f"/api/v1/queue/{QUEUE}/i/{item_id}/cancel")


def node_result(item: dict, node_id: str) -> dict:
    """The output of graph node `node_id`: results are keyed by *prepared* node ids."""
    session = item["session"]
    prepared = session["source_prepared_mapping"][node_id]
    return session["results"][prepared[0]]


# --------------------------------------------------------------------------- events


class WebSocket:
    """A minimal RFC 6455 client: text frames, ping/pong, close. No extensions."""

    def __init__(self, host: str, port: int, path: str, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise CheckFailed("WebSocket handshake: connection closed")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise CheckFailed(f"WebSocket handshake refused: {status.decode(errors='replace')}")
        self.sock.settimeout(None)
        self.send_lock = threading.Lock()

    def _read_exact(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def receive(self) -> str | None:
        """Next text message, or None when the server closed the connection."""
        message = b""
        while True:
            first, second = self._read_exact(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read_exact(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read_exact(8))[0]
            mask = self._read_exact(4) if second & 0x80 else None
            payload = self._read_exact(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if first & 0x80:  # FIN
                return message.decode("utf-8")

    def send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self.send_lock:
            self.sock.sendall(header + mask + masked)

    def close(self) -> None:
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


class EventStream:
    """InvokeAI's queue events: Socket.IO v5 / Engine.IO v4 over WebSocket.

    Engine.IO packets are one digit + data ("0" open, "2" ping, "3" pong, "4" message);
    Socket.IO packets ride in "4": "40" connect, "42[name, data]" event."""

    def __init__(self, base_url: str):
        parsed = urllib.parse.urlsplit(base_url)
        self.ws = WebSocket(parsed.hostname, parsed.port or 80, "/ws/socket.io/?EIO=4&transport=websocket")
        self.events: list[tuple[float, str, dict]] = []
        self.changed = threading.Condition()
        opening = self.ws.receive()
        expect(opening is not None and opening.startswith("0"), f"Engine.IO open expected, got {opening!r}")
        self.ws.send_text("40")  # Socket.IO connect to namespace "/"
        reply = self.ws.receive()
        expect(reply is not None and reply.startswith("40"), f"Socket.IO connect refused: {reply!r}")
        self.ws.send_text("42" + json.dumps(["subscribe_queue", {"queue_id": QUEUE}]))
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def _read_loop(self) -> None:
        try:
            while True:
                packet = self.ws.receive()
                if packet is None:
                    return
                if packet == "2":
                    self.ws.send_text("3")
                elif packet.startswith("42"):
                    name, data = json.loads(packet[2:])[:2]
                    with self.changed:
                        self.events.append((time.monotonic(), name, data))
                        self.changed.notify_all()
        except (EOFError, OSError):
            return

    def for_item(self, item_id: int, name: str | None = None) -> list[tuple[float, str, dict]]:
        with self.changed:
            return [e for e in self.events if e[2].get("item_id") == item_id and (name is None or e[1] == name)]

    def wait_for(self, item_id: int, name: str, timeout: float, predicate=lambda data: True) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for stamp, event_name, data in self.events:
                    if event_name == name and data.get("item_id") == item_id and predicate(data):
                        return stamp, data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CheckFailed(f"no {name} event for item {item_id} within {timeout:.0f} s")
                self.changed.wait(remaining)

    def close(self) -> None:
        self.ws.close()


# --------------------------------------------------------------------------- checks


def check_version(api: InvokeAI, _events: EventStream) -> str:
    version = api.json("GET", "/api/v1/app/version")["version"]
    expect(version == "6.14.2", f"version {version}")
    return version


def check_model(api: InvokeAI, _events: EventStream) -> str:
    models = api.json("GET", "/api/v2/models/?base_models=sd-1&model_type=main")["models"]
    tiny = [m for m in models if m["name"].startswith("tiny-sd15")]
    expect(len(tiny) == 1, f"tiny model not listed as sd-1/main; listed: {[m['name'] for m in models]}")
    return f"{tiny[0]['name']} key={tiny[0]['key']} format={tiny[0]['format']}"


def check_node_schemas(api: InvokeAI, _events: EventStream) -> str:
    schemas = api.json("GET", "/openapi.json")["components"]["schemas"]
    found = {}
    for name, schema in schemas.items():
        node_type = schema.get("properties", {}).get("type", {}).get("const")
        if schema.get("class") == "invocation" and node_type in ("gateway_test_slow", "gateway_test_fail"):
            found[node_type] = (name, schema)
    expect(set(found) == {"gateway_test_slow", "gateway_test_fail"}, f"found only {sorted(found)}")
    slow = found["gateway_test_slow"][1]["properties"]
    expect(slow["steps"]["minimum"] == 1 and slow["step_ms"]["minimum"] == 0, "bounds missing on slow node")
    return ", ".join(f"{t}={n}" for t, (n, _) in sorted(found.items()))


def slow_graph(steps: int, step_ms: int, label: str) -> dict:
    return {
        "id": f"live-check-{label}",
        "nodes": {"slow": {"id": "slow", "type": "gateway_test_slow", "steps": steps, "step_ms": step_ms, "label": label}},
        "edges": [],
    }


def check_slow(api: InvokeAI, events: EventStream) -> str:
    timings = []
    graph = slow_graph(5, 200, "same-graph-twice")
    for _ in range(2):
        item_id = api.enqueue(graph, "live-check-slow")
        item = api.wait_item(item_id, 30)
        expect(item["status"] == "completed", f"item {item_id} ended {item['status']}: {item.get('error_message')}")
        result = node_result(item, "slow")
        expect(result == {"value": 5, "type": "integer_output"}, f"result {result}")
        events.wait_for(item_id, "queue_item_status_changed", 5, lambda d: d["status"] == "completed")
        progress = [data for _, _, data in events.for_item(item_id, "invocation_progress")]
        messages = [p["message"] for p in progress]
        expect(messages == [f"step {i}/5" for i in range(1, 6)], f"progress messages {messages}")
        percentages = [p["percentage"] for p in progress]
        expect(percentages == [0.2, 0.4, 0.6, 0.8, 1.0], f"progress percentages {percentages}")
        expect(all(p["invocation_source_id"] == "slow" for p in progress), "invocation_source_id is not the graph node id")
        started, _ = events.wait_for(item_id, "invocation_started", 1)
        completed, _ = events.wait_for(item_id, "invocation_complete", 1)
        timings.append(completed - started)
    return "node ran " + " and ".join(f"{t:.2f} s" for t in timings) + " with 5 progress events each"


def check_fail(api: InvokeAI, events: EventStream) -> str:
    message = f"live-check failure {time.time():.3f}"
    graph = {"id": "live-check-fail", "nodes": {"boom": {"id": "boom", "type": "gateway_test_fail", "message": message}}, "edges": []}
    item_id = api.enqueue(graph, "live-check-fail")
    item = api.wait_item(item_id, 30)
    expect(item["status"] == "failed", f"item ended {item['status']}")
    expect(item.get("error_message") == message, f"error_message {item.get('error_message')!r}")
    expect(item.get("error_type") == "GatewayTestError", f"error_type {item.get('error_type')!r}")
    _, error = events.wait_for(item_id, "invocation_error", 5)
    expect(error["error_message"] == message and error["invocation_source_id"] == "boom", f"invocation_error {error}")
    return f"failed with {item['error_type']}: {item['error_message']!r}"


def check_cancel(api: InvokeAI, events: EventStream) -> str:
    item_id = api.enqueue(slow_graph(200, 50, f"cancel-{time.time():.3f}"), "live-check-cancel")  # 10 s if not canceled
    # Queued behind it: shows when the processor is really free again.
    next_id = api.enqueue(slow_graph(1, 0, f"after-cancel-{time.time():.3f}"), "live-check-cancel")
    events.wait_for(item_id, "invocation_progress", 30, lambda d: d["percentage"] >= 0.05)  # it is running
    requested = time.monotonic()
    answer = api.cancel(item_id)
    item = api.wait_item(item_id, 5)
    status_after = time.monotonic() - requested
    expect(item["status"] == "canceled", f"item ended {item['status']} (cancel answered {answer.get('status')})")
    expect(status_after < 2.0, f"status canceled only {status_after:.2f} s after the cancel")
    events.wait_for(item_id, "queue_item_status_changed", 5, lambda d: d["status"] == "canceled")
    next_started, _ = events.wait_for(next_id, "invocation_started", 10)
    expect(api.wait_item(next_id, 10)["status"] == "completed", "the item after the canceled one did not complete")
    late = [s for s, _, _ in events.for_item(item_id, "invocation_progress") if s > requested + 0.2]
    expect(not late, f"{len(late)} progress events after the cancel")
    expect(not events.for_item(item_id, "invocation_error"), "a canceled node must not report an error")
    expect(not events.for_item(item_id, "invocation_complete"), "a canceled node must not complete")
    steps_done = len(events.for_item(item_id, "invocation_progress"))
    return (
        f"canceled after {steps_done}/200 steps: status canceled {status_after:.2f} s after PUT .../cancel, "
        f"next item's node started {next_started - requested:.2f} s after it"
    )


def workflow_to_graph(workflow: dict) -> dict:
    """The executable graph of a simple GUI workflow: invocation nodes with their
    field values, minus fields fed by an edge (as InvokeAI's GUI builds it)."""
    fed = {(e["target"], e["targetHandle"]) for e in workflow["edges"] if e.get("type", "default") == "default"}
    nodes = {}
    for node in workflow["nodes"]:
        if node["type"] != "invocation":
            continue
        data = node["data"]
        graph_node = {"id": data["id"], "type": data["type"], "is_intermediate": data["isIntermediate"], "use_cache": data["useCache"]}
        for name, field in data["inputs"].items():
            if (data["id"], name) not in fed and field.get("value") is not None:
                graph_node[name] = field["value"]
        nodes[data["id"]] = graph_node
    edges = [
        {"source": {"node_id": e["source"], "field": e["sourceHandle"]}, "destination": {"node_id": e["target"], "field": e["targetHandle"]}}
        for e in workflow["edges"]
        if e.get("type", "default") == "default" and e["source"] in nodes and e["target"] in nodes
    ]
    return {"id": "live-check-sd15", "nodes": nodes, "edges": edges}


def check_sd15(api: InvokeAI, events: EventStream) -> str:
    listing = api.json("GET", "/api/v1/workflows/?categories=default&per_page=100")
    matches = [w for w in listing["items"] if w["name"] == SD15_WORKFLOW_NAME]
    expect(len(matches) == 1, f"shipped workflow {SD15_WORKFLOW_NAME!r} not in the library")
    workflow = api.json("GET", f"/api/v1/workflows/i/{matches[0]['workflow_id']}")["workflow"]
    graph = workflow_to_graph(workflow)

    model = [m for m in api.json("GET", "/api/v2/models/?base_models=sd-1&model_type=main")["models"] if m["name"].startswith("tiny-sd15")][0]
    by_type = {node["type"]: node for node in graph["nodes"].values()}
    by_type["main_model_loader"]["model"] = {k: model[k] for k in ("key", "hash", "name", "base", "type")}
    by_type["noise"].update(width=64, height=64)
    by_type["denoise_latents"]["steps"] = 4

    runs = [run_sd15_graph(api, events, graph, by_type["denoise_latents"]["id"]) for _ in range(2)]
    return (
        f"{SD15_WORKFLOW_NAME!r} at 64x64, 4 steps: enqueue to completed {runs[0][0]:.2f} s (first, loads the model), "
        f"{runs[1][0]:.2f} s (second); {runs[0][1]} denoise progress events with previews; image {runs[1][2]}"
    )


def run_sd15_graph(api: InvokeAI, events: EventStream, graph: dict, denoise_id: str) -> tuple[float, int, str]:
    """Run the graph once; returns (seconds from enqueue to completed, preview count, image name)."""
    item_id = api.enqueue(graph, "live-check-sd15")
    enqueued = time.monotonic()
    item = api.wait_item(item_id, 120)
    took = time.monotonic() - enqueued
    expect(item["status"] == "completed", f"ended {item['status']}: {item.get('error_type')}: {item.get('error_message')}")
    l2i = next(node_id for node_id, node in graph["nodes"].items() if node["type"] == "l2i")
    image = node_result(item, l2i)["image"]["image_name"]
    png = api.request("GET", f"/api/v1/images/i/{image}/full")
    expect(png[:8] == b"\x89PNG\r\n\x1a\n", "output is not a PNG")
    width, height = struct.unpack("!II", png[16:24])
    expect((width, height) == (64, 64), f"image is {width}x{height}")
    events.wait_for(item_id, "queue_item_status_changed", 5, lambda d: d["status"] == "completed")
    denoise = [d for _, _, d in events.for_item(item_id, "invocation_progress") if d["invocation_source_id"] == denoise_id]
    previews = [d for d in denoise if d.get("image")]
    expect(len(previews) >= 4, f"only {len(previews)} denoising progress events with a preview")
    return took, len(previews), image


CHECKS = [
    ("version", check_version),
    ("model", check_model),
    ("node-schemas", check_node_schemas),
    ("slow", check_slow),
    ("fail", check_fail),
    ("cancel", check_cancel),
    ("sd15", check_sd15),
]


def main() -> int:
    url = os.environ.get("INVOKEAI_URL")
    if not url:
        print("live-check: INVOKEAI_URL is not set (run me via scripts/invokeai-harness run -- ...)", file=sys.stderr)
        return 2
    api = InvokeAI(url)
    try:
        events = EventStream(url)
    except (CheckFailed, OSError) as error:
        print(f"FAIL events: cannot follow {url}/ws/socket.io: {error}")
        return 1
    failures = 0
    try:
        for name, check in CHECKS:
            started = time.monotonic()
            try:
                detail = check(api, events)
                print(f"ok   {name:13s} {time.monotonic() - started:6.2f} s  {detail}", flush=True)
            except (CheckFailed, KeyError, OSError, ValueError) as error:
                failures += 1
                print(f"FAIL {name:13s} {time.monotonic() - started:6.2f} s  {type(error).__name__}: {error}", flush=True)
    finally:
        events.close()
    print(f"live-check: {len(CHECKS) - failures}/{len(CHECKS)} checks passed against {url}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
