# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe ports of one host in parallel and print {"tcp:80": "open", ...} as JSON.

Usage: fw_probe.py HOST TIMEOUT tcp:80 udp:5353 ...
open: TCP connected / UDP answered; refused: TCP reset or ICMP unreachable; timeout: no answer.
"""

import json
import socket
import sys
import threading


def probe(host, timeout, spec, results):
    proto, port = spec.split(":")
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((host, int(port)))
            if proto == "udp":
                sock.send(b"ping")
                sock.recv(512)
            results[spec] = "open"
        except ConnectionRefusedError:
            results[spec] = "refused"
        except OSError as exc:
            results[spec] = "timeout" if isinstance(exc, TimeoutError) else f"error: {exc}"


def main():
    host, timeout, specs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    results = {}
    threads = [threading.Thread(target=probe, args=(host, timeout, spec, results)) for spec in specs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
