#!/usr/bin/env python3
"""Cold start with a full history (issue 27, target 5): how long until a restarted node serves a
resume (Last-Event-ID) from its history.

    bench/coldstart.py [--broker embedded|redis|both] [--events-per-channel 12500] [--bytes 1024]
                       [--server build/release/server/hermes-server]

Fills the history of every channel with events of --bytes (the embedded journal keeps about
1.25 x HERMES_SSE_HISTORY_SIZE, 10,000 by default, per channel: 12,500 fills it; Redis keeps
HERMES_REDIS_STREAM_LENGTH), stops the server cleanly, starts it again and times, from the spawn:
  - the first successful /readyz,
  - the first replayed event on a stream that resumes 1,000 events before the end,
and the server's RSS once it answered. Three restarts; prints a Markdown table and `# json` lines.
Only the Python standard library; every wait is bounded.
"""
import argparse, asyncio, json, os, shutil, signal, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import util as _util  # noqa: E402

_spec = _util.spec_from_file_location("rest100k", os.path.join(os.path.dirname(os.path.abspath(__file__)), "rest100k.py"))
rest = _util.module_from_spec(_spec)
_spec.loader.exec_module(rest)
CHANNELS = ["download:updates", "queue:updates", "system:notifications"]


async def fill(port, per_channel, size, clients=10):
    payload = "x" * max(1, size - 80)  # the envelope's own fields make up the rest
    ids = {c: [] for c in CHANNELS}
    todo = [(c, i) for i in range(per_channel) for c in CHANNELS]
    t0 = time.perf_counter()

    async def worker(k):
        c = rest.Client(port)
        for j in range(k, len(todo), clients):
            channel, i = todo[j]
            status, body = await c.request("POST", "/api/v1/events/publish",
                                           {"channel": channel, "type": "bench", "data": {"i": i, "pad": payload}})
            if status != 202:
                raise SystemExit(f"publish: {status} {body[:200]!r}")
            ids[channel].append(json.loads(body)["id"])
        c.close()

    await asyncio.gather(*(worker(k) for k in range(clients)))
    return ids, time.perf_counter() - t0


def first_replay(port, last_event_id, deadline):
    """Seconds until the first replayed event arrives, retrying connects until `deadline`."""
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5) as s:
                s.settimeout(max(0.1, deadline - time.time()))
                s.sendall(f"GET /api/v1/events/stream?channels=downloads HTTP/1.1\r\nHost: x\r\n"
                          f"Authorization: Bearer {rest.KEY}\r\nLast-Event-ID: {last_event_id}\r\n\r\n".encode())
                buf = b""
                while b"\nid: " not in buf and b"\nid:" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    if buf.startswith(b"HTTP/1.1 5") or buf.startswith(b"HTTP/1.1 4"):
                        break
                if b"\nid:" in buf:
                    return time.time()
        except OSError:
            pass
        time.sleep(0.01)
    return None


def ready(port, deadline):
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5) as s:
                s.settimeout(2)
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.time()
        except OSError:
            pass
        time.sleep(0.005)
    return None


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def bench(broker, work):
    data = os.path.join(work, f"data-{broker}")
    port = rest.free_port()
    env = dict(os.environ)
    env.update({"HERMES_DATA_DIR": data, "HERMES_API_KEYS": rest.KEY, "HERMES_PORT": str(port),
                "HERMES_HOST": "127.0.0.1", "HERMES_LOG_LEVEL": "warning", "HERMES_HTTP_MAX_CONNECTIONS_PER_IP": "0"})
    redis = None
    if broker == "redis":
        rport = rest.free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no",
                                  "--dir", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["HERMES_REDIS_URL"] = f"redis://127.0.0.1:{rport}"
        time.sleep(0.3)
    log = open(os.path.join(work, f"server-{broker}.log"), "a")

    def launch():
        return subprocess.Popen([ARGS.server], env=env, stdout=subprocess.DEVNULL, stderr=log)

    server = launch()
    rows = []
    try:
        rest.wait_ready(port, server)
        ids, secs = asyncio.run(fill(port, ARGS.events_per_channel, ARGS.bytes))
        n = sum(len(v) for v in ids.values())
        print(f"\n### {broker}: {n} events of {ARGS.bytes} B published in {secs:.1f} s ({n / secs:.0f}/s)\n")
        resume_from = sorted(ids["download:updates"])[-1000]
        disk = subprocess.run(["du", "-sh", os.path.join(data, "history")], capture_output=True, text=True).stdout.split()
        print(f"journal on disk: {disk[0] if disk else '-'}\n")
        print("| restart | ready (/readyz) ms | first replayed event ms | RSS after MiB |")
        print("|---|---|---|---|")
        for run in range(3):
            rest.stop(server)
            t0 = time.time()
            server = launch()
            r = ready(port, t0 + 60)
            f = first_replay(port, resume_from, t0 + 60)
            rss = rss_mib(server.pid)
            ready_ms = (r - t0) * 1000 if r else float("nan")
            replay_ms = (f - t0) * 1000 if f else float("nan")
            print(f"| {run + 1} | {ready_ms:.0f} | {replay_ms:.0f} | {rss:.0f} |")
            rows.append(replay_ms)
            print("# json " + json.dumps({"what": "coldstart", "broker": broker, "events": n, "bytes": ARGS.bytes,
                                          "ready_ms": round(ready_ms), "first_replay_ms": round(replay_ms),
                                          "rss_mib": round(rss)}))
    finally:
        rest.stop(server)
        rest.stop(redis)
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--broker", choices=["embedded", "redis", "both"], default="both")
    p.add_argument("--events-per-channel", type=int, default=12500)
    p.add_argument("--bytes", type=int, default=1024)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--server", default=os.path.join(ROOT, "build/release/server/hermes-server"))
    ARGS = p.parse_args()
    work = tempfile.mkdtemp(prefix="hermes-coldstart-")
    try:
        print(f"## Cold start with a full history ({time.strftime('%Y-%m-%d %H:%M')})")
        for b in (["embedded", "redis"] if ARGS.broker == "both" else [ARGS.broker]):
            bench(b, work)
    finally:
        if ARGS.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
