#!/usr/bin/env python3
"""bench/transfers.sh's client of hermes-server: adds the downloads, then waits for them.

    hermesadd.py PORT API_KEY SHA256_OR_EMPTY URL_FILE [--one-by-one]

Adds one download per line of URL_FILE as a client adding a list does: in lists of up to 1,000
(`{"downloads": [...]}`, one request and one transaction each), or with --one-by-one a POST per
line, one after the other over one keep-alive connection; then asks every 20 ms how many
completed, until all did (exit 0), one failed or 10 minutes passed (exit 1). Prints the POSTs'
latency to stderr, and to stdout `elapsed SECONDS`: from just before the first POST to the poll
that saw the last one completed — the client's own start (an interpreter, here behind pyenv's
shim: 0.1-0.4 s on this box) is not hermes' time.
"""
import http.client
import json
import sys
import time

port, key, sha, url_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
one_by_one = "--one-by-one" in sys.argv[5:]
urls = [line.strip() for line in open(url_file) if line.strip()]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}


def call(method, path, body=None):
    conn.request(method, path, body=body, headers=headers)
    reply = conn.getresponse()
    data = reply.read()
    if reply.status >= 300:
        sys.exit("hermes: %s %s: %d %s" % (method, path, reply.status, data[:200]))
    return json.loads(data) if data else None


def request(url):
    return {"url": url, "sha256": sha} if sha else {"url": url}


latency = []
step = 1 if one_by_one else 1000
conn.connect()  # the connection's set-up is the client's, as its start is
begun = time.monotonic()
for first in range(0, len(urls), step):
    started = time.monotonic()
    if one_by_one:
        call("POST", "/api/v1/downloads", json.dumps(request(urls[first])))
    else:
        call("POST", "/api/v1/downloads", json.dumps({"downloads": [request(u) for u in urls[first:first + step]]}))
    latency.append(time.monotonic() - started)
latency.sort()
print("hermes: %d POSTs in %.2f s, median %.1f ms, p90 %.1f ms, max %.1f ms" % (
    len(latency), sum(latency), latency[len(latency) // 2] * 1e3,
    latency[int(len(latency) * 0.9)] * 1e3, latency[-1] * 1e3), file=sys.stderr)
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    if call("GET", "/api/v1/downloads?status=completed&limit=1")["total"] == len(urls):
        print("elapsed %.3f" % (time.monotonic() - begun))
        sys.exit(0)
    failed = call("GET", "/api/v1/downloads?status=failed&limit=1")["total"]
    if failed:
        sys.exit("hermes: %d failed" % failed)
    time.sleep(0.02)
sys.exit("hermes: timed out")
