# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The server variables of groundwork.server.mariadb: tuned from the host's facts, checked
against the installed server's own catalogue, and compared with the running server.

The catalogue is ``information_schema.SYSTEM_VARIABLES`` of the running server, read by the
role's probe for the variables the role writes: {name: {"value", "type", "min", "max",
"block", "enum", "read_only"}}. From it:

- ``catalogue_problems``: a variable the server does not know, a number out of its range or
  not a multiple of its block size, a word outside its choices - refused before any file is
  written (the configuration checker catches them again if the server was not running);
- ``live_changes``: which of the file's values the running server does not have yet - the
  dynamic ones are applied with SET GLOBAL, a static one (READ_ONLY) needs a restart.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _mariadb_settings
"""

from __future__ import annotations

import math
import re

MIB = 1048576
CHUNK = 128 * MIB  # innodb_buffer_pool_chunk_size's default: the pool grows in these steps
SUFFIXES = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB, "T": 1024**4, "P": 1024**5}
NUMBER = re.compile(r"(-?[0-9]+)([KMGTP]?)", re.IGNORECASE)
NUMERIC_TYPES = ("INT", "INT UNSIGNED", "BIGINT", "BIGINT UNSIGNED", "DOUBLE")
TRUE_WORDS = ("ON", "1", "TRUE", "YES")
FALSE_WORDS = ("OFF", "0", "FALSE", "NO")
IO_CAPACITY = {"ssd": 1000, "hdd": 200}


def parse_number(text):
    """An integer from ``text`` with an optional K/M/G/T/P suffix, or None."""
    match = NUMBER.fullmatch(str(text).strip())
    if not match:
        return None
    return int(match.group(1)) * SUFFIXES[match.group(2).upper()]


def memory_bytes(memtotal_mb, cgroup_memory):
    """The memory the server may use: the host's, or the container's limit when smaller."""
    if memtotal_mb is None:
        raise ValueError("the host's memory could not be read (/proc/meminfo): the role tunes from it")
    memory = int(memtotal_mb) * MIB
    if cgroup_memory not in (None, "", "max"):
        memory = min(memory, int(cgroup_memory))
    return memory


def tune(memory, storage, max_connections, buffer_pool_share):
    """The tuned variables for ``memory`` bytes: the buffer pool a share of it in whole
    chunks (at least one), the redo log a quarter of the pool, the I/O capacity of the
    storage. Values are plain numbers of bytes, so that SET GLOBAL takes them as written."""
    pool = max(CHUNK, int(memory * buffer_pool_share) // CHUNK * CHUNK)
    redo = max(64 * MIB, pool // 4 // MIB * MIB)
    return {
        "innodb_buffer_pool_size": str(pool),
        "innodb_log_file_size": str(redo),
        "innodb_io_capacity": str(IO_CAPACITY[storage]),
        "innodb_flush_neighbors": "0" if storage == "ssd" else "1",
        "max_connections": str(max_connections),
        "thread_cache_size": str(min(max_connections, 128)),
    }


def _number_problem(value, entry):
    number = parse_number(value)
    if number is None:
        return "is not a number (digits with an optional K, M, G, T or P)"
    low, high = entry.get("min"), entry.get("max")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        return f"is out of the server's range ({low} to {high})"
    block = int(float(entry.get("block") or 1))
    if block > 1 and number % block:
        return f"is not a multiple of {block}, the server's step for it"
    return None


def _double_problem(value, entry):
    try:
        number = float(value)
    except ValueError:
        return "is not a number"
    if not math.isfinite(number):
        return "is not a finite number"
    low, high = entry.get("min"), entry.get("max")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        return f"is out of the server's range ({low} to {high})"
    return None


def value_problem(value, entry):
    """Why the server would refuse or change ``value`` of the variable ``entry``, or None."""
    kind = entry.get("type") or ""
    if kind == "DOUBLE":
        return _double_problem(value, entry)
    if kind in NUMERIC_TYPES:
        return _number_problem(value, entry)
    choices = [c.upper() for c in (entry.get("enum") or "").split(",") if c]
    words = [w.upper() for w in str(value).split(",")]
    if kind == "BOOLEAN" and (len(words) != 1 or words[0] not in TRUE_WORDS + FALSE_WORDS):
        return "is not ON or OFF"
    if kind == "ENUM" and (len(words) != 1 or words[0] not in choices):
        return f"is not one of {entry.get('enum')}"
    if kind == "SET" and not all(w in choices for w in words):
        return f"is not a list of {entry.get('enum')}"
    return None


def catalogue_problems(settings, catalogue):
    """The problems of ``mariadb_settings`` against the running server's catalogue."""
    problems = []
    for name, value in settings.items():
        entry = catalogue.get(name)
        where = f"mariadb_settings.{name}"
        if entry is None:
            problems.append(f"{where}: is not a variable of the installed server (its SYSTEM_VARIABLES)")
            continue
        problem = value_problem(value, entry)
        if problem:
            problems.append(f"{where}: {value!r} {problem}")
    return problems


def same(value, entry):
    """Whether the running server's value of a variable already is ``value``."""
    live = entry.get("value")
    if live is None:
        return False
    kind = entry.get("type") or ""
    if kind in NUMERIC_TYPES and kind != "DOUBLE":
        return parse_number(value) == parse_number(live)
    if kind == "DOUBLE":
        try:
            return float(value) == float(live)
        except ValueError:
            return False
    if kind == "BOOLEAN":
        return (str(value).upper() in TRUE_WORDS) == (str(live).upper() in TRUE_WORDS)
    if kind in ("ENUM", "SET"):
        return sorted(str(value).upper().split(",")) == sorted(str(live).upper().split(","))
    return str(value) == str(live)


def live_changes(settings, catalogue):
    """(dynamic, static): the variables whose running value differs from the file's -
    [(name, value)] to SET GLOBAL, and the names only a restart changes."""
    dynamic, static = [], []
    for name, value in sorted(settings.items()):
        entry = catalogue.get(name)
        if entry is None or same(value, entry):
            continue
        if entry.get("read_only"):
            static.append(name)
        else:
            dynamic.append((name, value))
    return dynamic, static


def set_statement(pairs, catalogue):
    """One SET GLOBAL for the dynamic changes: numbers as numbers, words quoted (their
    characters were checked: letters, digits and _ . , : / + @ * -)."""
    parts = []
    for name, value in pairs:
        kind = catalogue[name].get("type") or ""
        if kind in NUMERIC_TYPES and kind != "DOUBLE":
            text = str(parse_number(value))
        elif kind == "DOUBLE":
            text = str(float(value))
        else:
            text = "'" + str(value) + "'"
        parts.append(f"GLOBAL {name} = {text}")
    return f"SET {', '.join(parts)};" if parts else ""
