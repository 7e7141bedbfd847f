# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A bounded load: RATE requests per second to URL until STOP exists or LIMIT seconds passed.

Copied to the client container and run there (python3 load.py URL RATE LIMIT STOP OUT); one
line per request in OUT: "<seconds> <status or error> <body>". Stops by itself.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request


def one(url, context, started, lines, lock):
    try:
        # The URL is the test's own https:// address (checked in main).
        with urllib.request.urlopen(url, timeout=10, context=context) as response:  # noqa: S310
            outcome = f"{response.status} {response.read().decode().strip()}"
    except urllib.error.HTTPError as exc:
        outcome = f"{exc.code} {exc.reason}"
    except (OSError, ssl.SSLError) as exc:
        outcome = f"error {type(exc).__name__}: {exc}"
    with lock:
        lines.append(f"{time.monotonic() - started:.2f} {outcome}")


def main(url, rate, limit, stop, out):
    if not url.startswith("https://"):
        raise SystemExit(f"not an https:// URL: {url}")
    context = ssl.create_default_context()
    started = time.monotonic()
    lines, lock, threads = [], threading.Lock(), []
    tick = 0
    while time.monotonic() - started < limit and not os.path.exists(stop):
        thread = threading.Thread(target=one, args=(url, context, started, lines, lock))
        thread.start()
        threads.append(thread)
        tick += 1
        time.sleep(max(0.0, started + tick / rate - time.monotonic()))
    for thread in threads:
        thread.join(10)
    with open(out + ".tmp", "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5])
