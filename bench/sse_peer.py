"""bench/sse's peer: a minimal SSE fan-out on starlette + uvicorn, speaking the same protocol as
`sse-bench serve`: prints PORT, waits for N subscribers on /v1/events, prints the memory per idle
subscriber, then publishes EVENTS events at RATE per second, each with its publish time `t`."""

import asyncio
import json
import resource
import socket
import sys
import time

import uvicorn
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

subscribers: set[asyncio.Queue] = set()


def resident_bytes() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def events(request):
    queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
    subscribers.add(queue)

    async def stream():
        try:
            yield "retry: 2000\n\n"
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)

    return StreamingResponse(stream(), media_type="text/event-stream")


async def publisher(count: int, total: int, rate: float, server: uvicorn.Server):
    before = resident_bytes()
    while len(subscribers) < count:
        await asyncio.sleep(0.02)
    await asyncio.sleep(1)
    print(f"IDLE_BYTES_PER_SUBSCRIBER {(resident_bytes() - before) // count}", flush=True)
    cpu_before = cpu_seconds()
    start = time.monotonic()
    for n in range(total):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        message = f"event: node.progress\nid: 1-{n + 1}\ndata: {json.dumps({'n': n, 't': time.time_ns()})}\n\n"
        for queue in list(subscribers):
            if not queue.full():
                queue.put_nowait(message)
    await asyncio.sleep(3)
    print(f"CPU_US_PER_DELIVERY {(cpu_seconds() - cpu_before) * 1e6 / (count * total):.2f}", flush=True)
    server.should_exit = True


async def main():
    count, total, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16384)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    app = Starlette(routes=[Route("/v1/events", events)])
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", backlog=16384, timeout_keep_alive=300))
    await asyncio.gather(server.serve(sockets=[sock]), publisher(count, total, rate, server))


asyncio.run(main())
