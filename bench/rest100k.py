#!/usr/bin/env python3
"""REST and the queue at 100,000 downloads (issue 27, target 4), on SQLite and PostgreSQL.

    bench/rest100k.py [--store sqlite|postgres|both] [--count 100000] [--clients 10]
                      [--seconds 15] [--transfers 50] [--server build/release/server/hermes-server]

For each store: starts a local file server that trickles bytes (so `--transfers` downloads stay
running through the whole measurement), a throw-away PostgreSQL cluster when asked (as the tests'
fixture does: initdb, fsync off, a socket in a temporary directory), and hermes-server with
HERMES_MAX_CONCURRENT_DOWNLOADS=--transfers. Then
  1. adds --count downloads one by one from --clients keep-alive connections (the rate),
  2. walks the whole list once with cursors (`next_cursor`), keeping every page's cursor,
  3. for --seconds each, --clients connections repeat one request and time every answer:
     a page at a random cursor, a page at a random offset, one download by id, the queue.
Prints one Markdown table per store and a JSON line per figure (`# json {...}`) for run-all.sh.
Only the Python standard library; every wait is bounded.
"""
import argparse, asyncio, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the trickling file server
async def trickle_handler(reader, writer):
    # Every file is 1 GiB and comes at 4 KiB every half second: a transfer never ends while the
    # benchmark runs, and costs the server almost nothing.
    try:
        while True:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 600)
            if not head:
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: 1073741824\r\n\r\n")
            while True:
                writer.write(b"x" * 4096)
                await asyncio.wait_for(writer.drain(), 30)
                await asyncio.sleep(0.5)
    except Exception:
        pass
    finally:
        writer.close()


def run_trickle(port):
    async def main():
        server = await asyncio.start_server(trickle_handler, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()
    asyncio.run(main())


# ---------------------------------------------------------------- a minimal HTTP/1.1 client
class Client:
    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method, path, body=None, timeout=30):
        if self.writer is None:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), timeout)
        data = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
                f"Content-Length: {len(data)}\r\n")
        if body is not None:
            head += "Content-Type: application/json\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        return await asyncio.wait_for(self._response(), timeout)

    async def _response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
            self.reader = self.writer = None
        return status, body

    def close(self):
        if self.writer:
            self.writer.close()


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


# ---------------------------------------------------------------- the measurements
async def add_all(port, count, clients, file_port):
    ids, errors = [], 0
    next_index = 0
    lat = []

    async def worker():
        nonlocal next_index, errors
        c = Client(port)
        while next_index < count:
            i = next_index
            next_index += 1
            t = time.perf_counter()
            status, body = await c.request("POST", "/api/v1/downloads",
                                           {"url": f"http://127.0.0.1:{file_port}/f/{i}", "filename": f"f{i}.bin"})
            lat.append(time.perf_counter() - t)
            if status == 201:
                ids.append(json.loads(body)["id"])
            else:
                errors += 1
                if errors < 5:
                    print(f"add: {status} {body[:200]!r}", file=sys.stderr)
        c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return ids, errors, time.perf_counter() - t0, lat


async def walk(port, limit=100):
    """The whole list once with cursors; returns the cursors (None where cursors are missing)."""
    c = Client(port)
    cursors, seen, path = [], 0, f"/api/v1/downloads?limit={limit}"
    t0 = time.perf_counter()
    while True:
        status, body = await c.request("GET", path, timeout=120)
        if status != 200:
            print(f"walk: {status} {body[:200]!r}", file=sys.stderr)
            break
        page = json.loads(body)
        seen += len(page["items"])
        nxt = page.get("next_cursor")
        if not nxt:
            break
        cursors.append(nxt)
        path = f"/api/v1/downloads?limit={limit}&cursor={nxt}"
    c.close()
    return cursors, seen, time.perf_counter() - t0


async def hammer(port, clients, seconds, make_path):
    lat, errors, sizes = [], 0, []

    async def worker(seed):
        nonlocal errors
        rnd = random.Random(seed)
        c = Client(port)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            path = make_path(rnd)
            t = time.perf_counter()
            status, body = await c.request("GET", path, timeout=60)
            lat.append(time.perf_counter() - t)
            sizes.append(len(body))
            if status != 200:
                errors += 1
                if errors < 3:
                    print(f"{path}: {status} {body[:200]!r}", file=sys.stderr)
        c.close()

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return lat, errors, sizes


def start_postgres(work):
    bins = sorted(d for d in os.listdir("/usr/lib/postgresql") if os.path.exists(f"/usr/lib/postgresql/{d}/bin/initdb"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    bin_dir = f"/usr/lib/postgresql/{bins[-1]}/bin"
    pg = os.path.join(work, "pg")
    os.makedirs(pg)
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(pg, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_user + [f"{bin_dir}/initdb", "-D", f"{pg}/data", "-U", "postgres", "--auth=trust",
                              "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen(as_user + [f"{bin_dir}/postgres", "-D", f"{pg}/data", "-p", str(port), "-k", pg,
                                       "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                       "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
                                       "-c", "shared_buffers=64MB", "-c", "log_min_duration_statement=50"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "postgres.log"), "w"))
    for _ in range(300):
        r = subprocess.run([f"{bin_dir}/psql", "-h", pg, "-p", str(port), "-U", "postgres", "-Atc",
                            "CREATE DATABASE hermes"], capture_output=True, timeout=10)
        if r.returncode == 0:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        raise SystemExit("postgres did not start")
    psql = [f"{bin_dir}/psql", "-h", pg, "-p", str(port), "-U", "postgres", "-d", "hermes", "-Atc"]
    return proc, f"postgresql://postgres@127.0.0.1:{port}/hermes", psql


def stop(proc, sig=signal.SIGTERM):
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_ready(port, proc, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"hermes-server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("hermes-server did not listen")


def row(name, lat, errors, extra=""):
    ms = [x * 1000 for x in lat]
    return (f"| {name} | {len(ms)} | {len(ms) / ARGS.seconds:.0f} | {pct(ms, 50):.2f} | {pct(ms, 99):.2f} "
            f"| {max(ms) if ms else float('nan'):.2f} | {errors} | {extra} |")


def emit(store, what, **fig):
    print("# json " + json.dumps({"store": store, "what": what, **fig}))


async def bench_store(store, work, file_port):
    pg = None
    env = dict(os.environ)
    data = os.path.join(work, f"data-{store}")
    env.update({"HERMES_DATA_DIR": data, "HERMES_API_KEYS": KEY, "HERMES_LOG_LEVEL": "warning",
                "HERMES_MAX_CONCURRENT_DOWNLOADS": str(ARGS.transfers), "HERMES_HTTP_MAX_CONNECTIONS_PER_IP": "0",
                "HERMES_DOWNLOAD_DIR": os.path.join(work, f"files-{store}")})
    psql = None
    if store == "postgres":
        pg, url, psql = start_postgres(work)
        env["HERMES_DATABASE_URL"] = url
    port = free_port()
    env["HERMES_PORT"] = str(port)
    env["HERMES_HOST"] = "127.0.0.1"
    def launch():
        proc = subprocess.Popen([ARGS.server], env=env, stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(work, f"server-{store}.log"), "a"))
        wait_ready(port, proc)
        return proc

    server = launch()
    try:
        if ARGS.prefill:
            # A template row through the API, then --prefill copies of it by SQL with the server
            # stopped: the API's adds and every GET then run at that depth, in minutes.
            c = Client(port)
            status, body = await c.request("POST", "/api/v1/downloads",
                                           {"url": f"http://127.0.0.1:{file_port}/f/t", "filename": "t.bin"})
            c.close()
            template = json.loads(body)["id"]
            stop(server)
            t = time.perf_counter()
            prefill(store, data, psql, template, ARGS.prefill)
            print(f"\n(prefilled {ARGS.prefill} rows by SQL in {time.perf_counter() - t:.1f} s)")
            server = launch()
        ids, errors, secs, lat = await add_all(port, ARGS.count, ARGS.clients, file_port)
        rate = len(ids) / secs
        ms = [x * 1000 for x in lat]
        print(f"\n### {store}: {len(ids)} downloads added one by one from {ARGS.clients} connections in "
              f"{secs:.1f} s: {rate:.0f}/s (p50 {pct(ms, 50):.1f} ms, p99 {pct(ms, 99):.1f} ms, "
              f"{errors} errors)\n")
        emit(store, "add", count=len(ids), seconds=round(secs, 2), rate=round(rate), p99_ms=round(pct(ms, 99), 2))
        cursors, seen, wsecs = await walk(port)
        print(f"Walking the list with cursors: {seen} rows in {len(cursors) + 1} pages, {wsecs:.1f} s\n")
        emit(store, "walk", rows=seen, pages=len(cursors) + 1, seconds=round(wsecs, 2))
        print(f"{ARGS.clients} clients, {ARGS.seconds} s each, {ARGS.transfers} transfers running:\n")
        print("| request | answers | per s | p50 ms | p99 ms | max ms | errors | note |")
        print("|---|---|---|---|---|---|---|---|")
        total = len(ids) + ARGS.prefill
        cases = []
        if cursors:
            cases.append(("GET /downloads?limit=100&cursor=<random>",
                          lambda r: f"/api/v1/downloads?limit=100&cursor={r.choice(cursors)}"))
        cases += [
            ("GET /downloads?limit=100&offset=<random>",
             lambda r: f"/api/v1/downloads?limit=100&offset={r.randrange(max(1, total))}"),
            ("GET /downloads/{id}", lambda r: f"/api/v1/downloads/{r.choice(ids)}"),
            # A page of the queue as the list's (the paged form), and the default of 1,000 rows
            # that clients written before the paging get.
            ("GET /queue?limit=100", lambda r: "/api/v1/queue?limit=100"),
            ("GET /queue (1,000 rows)", lambda r: "/api/v1/queue"),
        ]
        for name, make in cases:
            lat, errs, sizes = await hammer(port, ARGS.clients, ARGS.seconds, make)
            note = f"{pct(sizes, 50) / 1024:.0f} KiB answers"
            print(row(name, lat, errs, note))
            ms = [x * 1000 for x in lat]
            emit(store, name, answers=len(ms), p50_ms=round(pct(ms, 50), 2), p99_ms=round(pct(ms, 99), 2),
                 max_ms=round(max(ms), 2) if ms else None, errors=errs, body_kib=round(pct(sizes, 50) / 1024))
        if ARGS.plans:
            print_plans(store, data, psql)
    finally:
        stop(server)
        stop(pg, signal.SIGINT)


def prefill(store, data, psql, template, n):
    if store == "postgres":
        cols = subprocess.run(psql + ["SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                                      "information_schema.columns WHERE table_name = 'downloads' AND is_generated = 'NEVER'"],
                              capture_output=True, text=True, timeout=30, check=True).stdout.strip().split(",")
        # Copies keep the template's id but for its last 12 hex digits (g): still a lower-case
        # UUID, which a cursor must name.
        sel = [f"substr(id, 1, 24) || lpad(to_hex(g), 12, '0')" if c == "id" else f"filename || g" if c == "filename" else
               "position + g" if c == "position" else c for c in cols]
        subprocess.run(psql + [f"INSERT INTO downloads ({','.join(cols)}) SELECT {','.join(sel)} FROM downloads, "
                               f"generate_series(1, {n}) g WHERE id = '{template}'"],
                       capture_output=True, timeout=600, check=True)
        # What autovacuum does to a table that grew: statistics and the visibility map (the
        # counts are index-only scans only once the map says the pages are all visible).
        subprocess.run(psql + ["VACUUM ANALYZE downloads"], capture_output=True, timeout=600, check=True)
        return
    import sqlite3
    db = sqlite3.connect(os.path.join(data, "hermes.db"))
    cols = [r[1] for r in db.execute("PRAGMA table_xinfo(downloads)") if r[6] == 0]
    sel = [f"substr(id, 1, 24) || printf('%012x', g)" if c == "id" else f"filename || g" if c == "filename" else
           "position + g" if c == "position" else c for c in cols]
    db.execute(f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
               f"INSERT INTO downloads ({','.join(cols)}) SELECT {','.join(sel)} FROM downloads, s WHERE id = ?",
               (template,))
    db.commit()
    db.close()


# The statements DownloadListQuery and DownloadRepository send for these requests (literals for
# the bound values), as EXPLAIN shows them on the filled table.
PLANS = [
    "SELECT * FROM downloads WHERE (queue_rank, position, id) > (1000, 50000, 'x') ORDER BY queue_rank, position, id LIMIT 101",
    "SELECT * FROM downloads WHERE status = 'pending' AND (queue_rank, position, id) > (1000, 50000, 'x')"
    " ORDER BY queue_rank, position, id LIMIT 101",
    "SELECT * FROM downloads ORDER BY queue_rank, position, id LIMIT 101 OFFSET 50000",
    "SELECT * FROM downloads WHERE queue_rank < 2001 ORDER BY queue_rank, position, id LIMIT 1001",
    "SELECT status, SUM(n), COUNT(*) FROM download_counts GROUP BY status",
    "SELECT SUM(n) FROM download_counts WHERE status IN ('pending', 'downloading', 'processing', 'paused')",
    "SELECT SUM(speed) FROM downloads WHERE status = 'downloading'",
    "SELECT COALESCE(MAX(position), 0) + 1 FROM downloads",
    "SELECT * FROM downloads WHERE id = 'x'",
    # the claims of the engine (DownloadRepository::claim), on the store's thread (the API's reads
    # run on read connections of their own, DownloadReaders)
    "SELECT * FROM downloads WHERE announce <> '' AND owner <> '' AND lease_until < 1 ORDER BY id LIMIT 1",
    "SELECT * FROM downloads{ib_queue} WHERE status IN ('pending', 'downloading', 'processing') AND (owner = '' OR lease_until < 1)"
    " AND not_before <= 1 ORDER BY queue_rank, position, id LIMIT 1",
    "SELECT MIN(not_before) - 1 FROM downloads{ib_retry} WHERE status = 'pending' AND not_before > 0 AND not_before > 1",
]


def print_plans(store, data, psql):
    """The plans of the list queries, as the server sends them (see DownloadListQuery)."""
    # SqlDialect::indexedBy(): SQLite is told which index; PostgreSQL's planner chooses.
    ib = {k: "" if store == "postgres" else f" INDEXED BY downloads_{k[3:]}" for k in ("ib_status", "ib_queue", "ib_retry")}
    ib["ib_queue"] = ib["ib_queue"] and " INDEXED BY downloads_queue_order"
    queries = [q.format(**ib) for q in PLANS]
    print()
    for q in queries:
        if store == "postgres":
            out = subprocess.run(psql + ["EXPLAIN " + q], capture_output=True, text=True, timeout=30).stdout
        else:
            out = subprocess.run(["sqlite3", os.path.join(data, "hermes.db"), "EXPLAIN QUERY PLAN " + q],
                                 capture_output=True, text=True, timeout=30).stdout
        print(f"    {q}\n" + "".join(f"      {line}\n" for line in out.splitlines()))


async def main():
    work = tempfile.mkdtemp(prefix="hermes-rest100k-")
    os.chmod(work, 0o755)  # the postgres user works in it
    file_port = free_port()
    trickle = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--trickle", str(file_port)])
    try:
        stores = ["sqlite", "postgres"] if ARGS.store == "both" else [ARGS.store]
        how = f"{ARGS.prefill} copied in by SQL, then {ARGS.count} through the API" if ARGS.prefill else "all through the API"
        print(f"## REST at {ARGS.count + ARGS.prefill} downloads ({how}; {os.path.basename(ARGS.server)}, "
              f"{time.strftime('%Y-%m-%d %H:%M')})")
        for store in stores:
            await bench_store(store, work, file_port)
    finally:
        stop(trickle)
        if not ARGS.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    # A SIGTERM (timeout, run-all.sh) unwinds: the servers and the PostgreSQL cluster stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) == 3 and sys.argv[1] == "--trickle":
        run_trickle(int(sys.argv[2]))
        sys.exit(0)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--transfers", type=int, default=50)
    p.add_argument("--server", default=os.path.join(ROOT, "build/release/server/hermes-server"))
    p.add_argument("--prefill", type=int, default=0, help="rows copied in by SQL before the adds")
    p.add_argument("--no-plans", dest="plans", action="store_false", help="do not print the query plans")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    ARGS = p.parse_args()
    asyncio.run(main())
