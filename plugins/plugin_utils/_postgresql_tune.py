# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PostgreSQL's memory, WAL, planner and parallelism settings from the host's resources.

``postgresql_tune(memtotal_mb, cgroup_memory, cpus, max_connections, storage, version,
overrides)``: the memory is the smaller of MemTotal and the cgroup's limit; shared_buffers
25% of it, effective_cache_size 75%, maintenance_work_mem 1/16 (at most 2GB), work_mem
(memory - shared_buffers) / (3 x max_connections) / workers per gather (at least 64kB),
wal_buffers 3% of shared_buffers (32kB to 16MB), WAL sizes by memory, planner costs by
storage, parallelism by CPUs; sizes rendered as SHOW prints them; ``overrides`` win. Returns
setting -> value, plus ``_memory_bytes``. Called by _postgresql_role.py.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_tune import postgresql_tune
"""

from __future__ import annotations

import math
import re

from ansible.errors import AnsibleFilterError

KB = 1024
MB = 1024 * KB
GB = 1024 * MB
NO_LIMIT = 2**60


def memory_bytes(memtotal_mb, cgroup_memory=None):
    """The memory the server may use: the host's, or its cgroup limit when that is smaller."""
    try:
        total = int(memtotal_mb) * MB
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"postgresql_tune: memory {memtotal_mb!r} is not a number of MiB") from exc
    if total <= 0:
        raise AnsibleFilterError(f"postgresql_tune: memory {memtotal_mb!r} must be positive")
    text = str(cgroup_memory).strip() if cgroup_memory is not None else ""
    if re.fullmatch(r"[0-9]+", text):
        limit = int(text)
        if 0 < limit < NO_LIMIT:
            return min(total, limit)
    return total


def render_size(value):
    """Bytes as PostgreSQL prints them with SHOW: GB, MB or kB, whichever divides exactly."""
    value = int(value)
    for unit, size in (("GB", GB), ("MB", MB)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return f"{value // KB}kB"


def _floor(value, step):
    return int(value) // step * step


def postgresql_tune(
    memtotal_mb,
    cgroup_memory=None,
    cpus=1,
    max_connections=100,
    storage="ssd",
    version=15,
    overrides=None,
):
    """Tuned settings; see DOCUMENTATION."""
    if storage not in ("ssd", "hdd"):
        raise AnsibleFilterError(f"postgresql_tune: storage {storage!r} is not 'ssd' or 'hdd'")
    try:
        cpus, max_connections, version = max(int(cpus), 1), int(max_connections), int(version)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(
            "postgresql_tune: cpus, max_connections and version must be numbers"
        ) from exc
    if max_connections < 1:
        raise AnsibleFilterError(f"postgresql_tune: max_connections {max_connections} must be positive")
    memory = memory_bytes(memtotal_mb, cgroup_memory)

    shared_buffers = max(_floor(memory / 4, MB), 16 * MB)
    effective_cache = _floor(memory * 3 / 4, MB)
    maintenance = min(_floor(memory / 16, MB), 2 * GB)
    wal_buffers = min(max(_floor(shared_buffers * 3 / 100, 8 * KB), 32 * KB), 16 * MB)
    if wal_buffers >= 14 * MB:
        wal_buffers = 16 * MB
    per_gather = min(max(cpus // 2, 1), 4)
    work_mem = max(_floor((memory - shared_buffers) / (3 * max_connections) / per_gather, KB), 64 * KB)
    small = memory < 4 * GB
    ssd = storage == "ssd"

    settings = {
        "max_connections": str(max_connections),
        "shared_buffers": render_size(shared_buffers),
        "effective_cache_size": render_size(effective_cache),
        "maintenance_work_mem": render_size(maintenance),
        "work_mem": render_size(work_mem),
        "wal_buffers": render_size(wal_buffers),
        "min_wal_size": render_size(256 * MB if small else GB),
        "max_wal_size": render_size(GB if small else 4 * GB),
        "checkpoint_completion_target": "0.9",
        "default_statistics_target": "100",
        "random_page_cost": "1.1" if ssd else "4",
        "effective_io_concurrency": "200" if ssd else "2",
        "max_worker_processes": str(max(8, cpus)),
        "max_parallel_workers": str(cpus),
        "max_parallel_workers_per_gather": str(per_gather),
        "max_parallel_maintenance_workers": str(min(max(math.ceil(cpus / 2), 1), 4)),
    }
    if version >= 13:
        settings["maintenance_io_concurrency"] = "200" if ssd else "10"
    for name, value in (overrides or {}).items():
        settings[str(name)] = (
            str(value).lower() if isinstance(value, bool) else str(value)  # on/off: true/false work too
        )
    settings["_memory_bytes"] = memory
    return settings
