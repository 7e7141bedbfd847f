# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugin_utils/_postgresql_tune.py (the PostgreSQL role's tuning)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_tune import (
    memory_bytes,
    postgresql_tune,
    render_size,
)

GIB = 1024**3
MIB = 1024**2


@pytest.mark.parametrize(
    ("memtotal_mb", "cgroup", "expected"),
    [
        (8192, None, 8 * GIB),
        (8192, "max", 8 * GIB),
        (8192, "", 8 * GIB),
        (8192, "max\n", 8 * GIB),
        (8192, str(GIB), GIB),
        (8192, GIB, GIB),
        (8192, "9223372036854771712", 8 * GIB),  # cgroup v1 "no limit"
        (1024, str(4 * GIB), GIB),  # a limit above the host's memory changes nothing
        (8192, "0", 8 * GIB),
        (8192, "garbage", 8 * GIB),
    ],
)
def test_memory_is_the_cgroup_limit_when_there_is_one(memtotal_mb, cgroup, expected):
    assert memory_bytes(memtotal_mb, cgroup) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(GIB, "1GB"), (256 * MIB, "256MB"), (1536 * MIB, "1536MB"), (7864 * 1024, "7864kB"), (65536, "64kB")],
)
def test_sizes_are_rendered_like_show(value, expected):
    assert render_size(value) == expected


# memory MiB, cgroup, cpus, connections, storage, version -> expected subset
CASES = {
    "1 GiB container, 2 CPUs": (
        (65536, str(GIB), 2, 100, "ssd", 15),
        {
            "shared_buffers": "256MB",
            "effective_cache_size": "768MB",
            "maintenance_work_mem": "64MB",
            "work_mem": "2621kB",
            "wal_buffers": "7864kB",
            "min_wal_size": "256MB",
            "max_wal_size": "1GB",
            "checkpoint_completion_target": "0.9",
            "random_page_cost": "1.1",
            "effective_io_concurrency": "200",
            "maintenance_io_concurrency": "200",
            "max_worker_processes": "8",
            "max_parallel_workers": "2",
            "max_parallel_workers_per_gather": "1",
            "max_parallel_maintenance_workers": "1",
            "max_connections": "100",
        },
    ),
    "16 GiB host, 8 CPUs, hdd": (
        (16384, "max", 8, 200, "hdd", 17),
        {
            "shared_buffers": "4GB",
            "effective_cache_size": "12GB",
            "maintenance_work_mem": "1GB",
            "work_mem": "5242kB",
            "wal_buffers": "16MB",
            "min_wal_size": "1GB",
            "max_wal_size": "4GB",
            "random_page_cost": "4",
            "effective_io_concurrency": "2",
            "maintenance_io_concurrency": "10",
            "max_worker_processes": "8",
            "max_parallel_workers": "8",
            "max_parallel_workers_per_gather": "4",
            "max_parallel_maintenance_workers": "4",
            "max_connections": "200",
        },
    ),
    "64 GiB host, 32 CPUs": (
        (65536, None, 32, 100, "ssd", 15),
        {
            "shared_buffers": "16GB",
            "maintenance_work_mem": "2GB",
            "max_worker_processes": "32",
            "max_parallel_workers": "32",
            "max_parallel_workers_per_gather": "4",
        },
    ),
    "tiny host: floors": (
        (32, None, 1, 1000, "ssd", 12),
        {"shared_buffers": "16MB", "work_mem": "64kB", "wal_buffers": "488kB"},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tuned_values(case):
    (memory, cgroup, cpus, connections, storage, version), expected = CASES[case]
    settings = postgresql_tune(
        memory, cgroup_memory=cgroup, cpus=cpus, max_connections=connections, storage=storage, version=version
    )
    assert {key: settings[key] for key in expected} == expected


def test_version_12_has_no_maintenance_io_concurrency():
    assert "maintenance_io_concurrency" not in postgresql_tune(4096, version=12)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"shared_buffers": "1GB"}, {"shared_buffers": "1GB"}),
        ({"work_mem": 4096}, {"work_mem": "4096"}),
        ({"jit": False}, {"jit": "false"}),
        ({"log_min_duration_statement": "250ms"}, {"log_min_duration_statement": "250ms"}),
    ],
)
def test_overrides_win(overrides, expected):
    settings = postgresql_tune(4096, overrides=overrides)
    assert {key: settings[key] for key in expected} == expected


def test_memory_used_is_returned():
    assert postgresql_tune(8192, cgroup_memory=str(GIB))["_memory_bytes"] == GIB


@pytest.mark.parametrize(
    "kwargs",
    [
        {"memtotal_mb": "lots"},
        {"memtotal_mb": 0},
        {"memtotal_mb": 1024, "storage": "nvme"},
        {"memtotal_mb": 1024, "cpus": "two"},
        {"memtotal_mb": 1024, "max_connections": 0},
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(AnsibleFilterError):
        postgresql_tune(kwargs.pop("memtotal_mb"), **kwargs)
