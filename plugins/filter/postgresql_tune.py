# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_tune
short_description: PostgreSQL memory, WAL, planner and parallelism settings from the host's resources
version_added: 0.1.0
author: groundwork developers
description:
  - Computes the settings C(groundwork.server.postgresql) writes to its drop-in, from the memory the
    server may use, its CPUs, O(max_connections), the O(storage) type and the PostgreSQL major O(version).
  - "The memory is the smaller of O(_input) (C(MemTotal) in MiB, what C(ansible_memtotal_mb) reports)
    and O(cgroup_memory), the memory limit of the host's cgroup (a container's limit); V(max), an
    empty value or a limit of 2^60 bytes or more means no limit."
  - "C(shared_buffers) 25% of the memory, C(effective_cache_size) 75%, C(maintenance_work_mem) 1/16
    (at most 2GB), C(work_mem) (memory - shared_buffers) / (3 x max_connections) / parallel workers per
    gather (at least 64kB), C(wal_buffers) 3% of shared_buffers (32kB to 16MB), C(min_wal_size) and
    C(max_wal_size) 256MB/1GB below 4GB of memory, 1GB/4GB from there, C(checkpoint_completion_target)
    0.9, C(random_page_cost) 1.1 (ssd) or 4 (hdd), C(effective_io_concurrency) 200 (ssd) or 2 (hdd),
    C(max_worker_processes) max(8, CPUs), C(max_parallel_workers) CPUs,
    C(max_parallel_workers_per_gather) and C(max_parallel_maintenance_workers) CPUs/2 (1 to 4)."
  - Sizes are rendered in PostgreSQL's units the way C(SHOW) prints them (the largest of C(GB), C(MB)
    and C(kB) that divides the value). O(overrides) win over every computed value.
options:
  _input:
    description: Total memory in MiB (C(MemTotal) of C(/proc/meminfo) / 1024).
    type: int
    required: true
  cgroup_memory:
    description: The cgroup memory limit in bytes, V(max) or empty for none.
    type: raw
  cpus:
    description: CPUs the server may use.
    type: int
    default: 1
  max_connections:
    description: C(max_connections).
    type: int
    default: 100
  storage:
    description: V(ssd) or V(hdd).
    type: str
    default: ssd
  version:
    description: PostgreSQL major version.
    type: int
    default: 15
  overrides:
    description: Settings that replace the computed ones (and extra settings), by name.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Show what a 4 GiB, 2 CPU host gets
  ansible.builtin.debug:
    msg: "{{ 4096 | groundwork.server.postgresql_tune(cpus=2, version=17) }}"
"""

RETURN = r"""
_value:
  description: Setting name to value (a string, sizes with unit), plus C(_memory_bytes) (the memory used).
  type: dict
"""


# The logic lives in plugin_utils/_postgresql_tune.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def postgresql_tune(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_tune import (
        postgresql_tune as run,
    )

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"postgresql_tune": postgresql_tune}
