# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How many task results a run's log shows on hosts: one per host (and loop item) that a task
ran for, ``ok`` or ``changed``, as the default stdout callback prints them; skipped ones do not
count. A deterministic measure of how much a converge asks of the hosts: nearly every such
result is a module run (a few are controller-only tasks such as set_fact, the same in every
run), where the wall time of a run spreads with the machine's load.

    python3 bench/site/task_results.py .demo/site.log [more logs]

prints, per log, the results and the tasks they belong to.
"""

import re
import sys

TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*?)\]")
RESULT = re.compile(r"^(?:ok|changed): \[[^\]]+\]")


def count(lines):
    results, tasks, task = 0, set(), None
    for line in lines:
        found = TASK.match(line)
        if found:
            task = found.group(1)
        elif task is not None and RESULT.match(line):
            results += 1
            tasks.add(task)
    return results, len(tasks)


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            results, tasks = count(handle)
        print(f"{path}: {results} task results on hosts, from {tasks} tasks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
