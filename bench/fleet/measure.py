# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one command (an ansible-playbook run of bench/fleet.sh) and measure the controller.

Prints one line: ``wall_s=… cpu_s=… pss_mb=… rss_mb=… rc=…``

- wall_s: wall-clock seconds of the command.
- cpu_s: user + system CPU seconds of the command and every process it started, from
  getrusage(RUSAGE_CHILDREN) before and after: Ansible waits for its forked workers, and
  they for the docker/ssh processes they start, so the kernel adds all of them up the tree
  (what runs inside the containers, and the Docker engine's own work, is not included).
- pss_mb / rss_mb: the peak, over samples every --interval seconds (0.2), of the summed
  proportional set size (PSS, /proc/PID/smaps_rollup) and of the summed resident set size
  (RSS, /proc/PID/statm) of the process tree under the command (the command and all its
  descendants, found through /proc/PID/stat's parent ids). Forked workers share most of
  their pages with the ansible-playbook process copy-on-write: summed RSS counts those
  pages once per process, PSS divides each shared page among the processes that share it,
  so summed PSS is the memory the tree really holds. A process shorter than the interval
  can be missed; the peak is sampled, not exact.

The command runs in a session of its own: on --timeout, SIGINT or SIGTERM its whole process
group is ended (TERM, then KILL after 10 s), and the exit code is 124 after a timeout.
Usage: measure.py [--interval S] [--timeout S] [--output FILE] -- COMMAND...
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def children_of():
    """{parent pid: [child pids]} of every process now."""
    tree = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        # comm may hold spaces and parentheses: the fields after the last ')' are fixed.
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 1:
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(root):
    tree = children_of()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def memory(pid):
    """(pss kB, rss kB) of one process, (0, 0) once it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            rss = int(handle.read().split()[1]) * PAGE // 1024
    except (OSError, ValueError, IndexError):
        return 0, 0
    return pss, rss


class Sampler(threading.Thread):
    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            pss = rss = 0
            for pid in descendants(self.pid):
                one_pss, one_rss = memory(pid)
                pss += one_pss
                rss += one_rss
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss = max(self.peak_rss, rss)
            self.stop.wait(self.interval)


def end_group(process):
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=0)
    parser.add_argument("--output", help="where the command's output goes (default: inherited)")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)

    output = open(args.output, "w", encoding="utf-8") if args.output else None  # noqa: SIM115
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    process = subprocess.Popen(
        args.command, stdout=output, stderr=subprocess.STDOUT if output else None, start_new_session=True
    )
    sampler = Sampler(process.pid, args.interval)
    sampler.start()

    def interrupted(signum, _frame):
        end_group(process)
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        rc = process.wait(args.timeout or None)
    except subprocess.TimeoutExpired:
        end_group(process)
        rc = 124
    wall = time.monotonic() - start
    sampler.stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if output:
        output.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        f"wall_s={wall:.2f} cpu_s={cpu:.2f} pss_mb={sampler.peak_pss / 1024:.0f}"
        f" rss_mb={sampler.peak_rss / 1024:.0f} rc={rc}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
