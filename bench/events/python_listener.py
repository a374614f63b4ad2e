"""python-socketio peer for bench/events: receives the same progress events as the Swift
client in the same run and prints the progress-call -> handler latency (p50/p99).

    python python_listener.py URL DESTINATION READY_FILE TIMEOUT_S
"""

import sys
import threading
import time

import socketio

url, destination, ready_file, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
samples: list[float] = []
done = threading.Event()
client = socketio.Client(reconnection=False)


@client.on("invocation_progress")
def on_progress(data):
    now = time.time()
    if data.get("destination") != destination:
        return
    message = data.get("message", "")
    if " t=" in message:
        samples.append((now - float(message.rsplit(" t=", 1)[1])) * 1000)


@client.on("queue_item_status_changed")
def on_status(data):
    if data.get("destination") == destination and data.get("status") in ("completed", "failed", "canceled"):
        done.set()


client.connect(url, socketio_path="/ws/socket.io", transports=["websocket"])
client.call("subscribe_queue", {"queue_id": "default"}, timeout=10)
open(ready_file, "w").write("ready\n")
done.wait(timeout)
time.sleep(0.5)
client.disconnect()
if not samples:
    print("python latency: no samples", file=sys.stderr)
    sys.exit(1)
samples.sort()


def pct(p: float) -> float:
    import math

    return samples[min(len(samples) - 1, math.ceil(len(samples) * p) - 1)]


print(f"python latency: n={len(samples)} p50={pct(0.5):.3f} ms p99={pct(0.99):.3f} ms max={samples[-1]:.3f} ms")
