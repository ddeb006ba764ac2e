#!/usr/bin/env python3
"""Label flood against a running bridge (loopback): N requests for distinct unknown,
invalid and non-UTF-8 paths, then the /metrics series count and the bridge's RSS
before and after, and the answers by status. Prints figures only; the test that
asserts them is AttackTest / LabelFloodTest in serve_attack_pgtest.cpp.

    tests/attack/label_flood.py PORT PID [REQUESTS]      (default 5000)

Used for the old-against-new comparison in the closing note of the hardening issue.
"""
import random
import socket
import sys


def request(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def series(port):
    body = request(port, b"/metrics").split(b"\r\n\r\n", 1)[1]
    return sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    shapes = [
        lambda j: b"/api/production/" + j,
        lambda j: b"/api/inverters/102100007000/" + j,
        lambda j: b"/wp-admin/" + j,
        lambda j: b"/api/production/\xff" + j,
    ]
    series(port)  # the scrape's own series exist from here on
    before, rss_before = series(port), rss_kib(pid)
    random.seed(11)
    statuses = {}
    for i in range(n):
        answer = request(port, shapes[i % len(shapes)](str(random.random()).encode()))
        status = answer[9:12].decode() or "none"
        statuses[status] = statuses.get(status, 0) + 1
    print(f"series {before} -> {series(port)}; RSS {rss_before} -> {rss_kib(pid)} KiB; "
          f"answers {dict(sorted(statuses.items()))}")


if __name__ == "__main__":
    main()
