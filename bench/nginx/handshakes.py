"""Full TLS handshakes per second against one server: the benchmark's load generator.

Runs in the client container (Python's standard library only). Each of N processes
opens a TCP connection, completes a TLS handshake with SNI and a fresh SSL object (no
session is offered, so the server must do a full handshake), closes, and repeats until
the deadline. Prints one line: "handshakes=<total> seconds=<wall> resumed=<count>".

Usage: python3 handshakes.py HOST PORT SERVER_NAME PROCESSES SECONDS
"""

import multiprocessing
import socket
import ssl
import sys
import time


def worker(host, port, server_name, deadline, results):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    done = resumed = failed = 0
    while time.monotonic() < deadline:
        try:
            with (
                socket.create_connection((host, port), timeout=10) as raw,
                context.wrap_socket(raw, server_hostname=server_name) as tls,
            ):
                resumed += tls.session_reused
            done += 1
        except OSError:
            failed += 1
    results.put((done, resumed, failed))


def main():
    host, port, server_name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    processes, seconds = int(sys.argv[4]), float(sys.argv[5])
    results = multiprocessing.Queue()
    start = time.monotonic()
    deadline = start + seconds
    workers = [
        multiprocessing.Process(target=worker, args=(host, port, server_name, deadline, results))
        for _index in range(processes)
    ]
    for process in workers:
        process.start()
    totals = [results.get() for _worker in workers]
    for process in workers:
        process.join()
    wall = time.monotonic() - start
    done, resumed, failed = (sum(column) for column in zip(*totals, strict=True))
    print(f"handshakes={done} seconds={wall:.3f} resumed={resumed} failed={failed}")
    return 1 if failed or not done else 0


if __name__ == "__main__":
    sys.exit(main())
