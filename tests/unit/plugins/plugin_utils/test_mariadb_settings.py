# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugin_utils/_mariadb_settings.py (the MariaDB role's tuning, and its user
settings checked against and compared with the running server's catalogue)."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._mariadb_settings import (
    CHUNK,
    catalogue_problems,
    live_changes,
    memory_bytes,
    parse_number,
    same,
    set_statement,
    tune,
)

MIB = 1024**2
GIB = 1024**3
SQL_MODES = (
    "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,IGNORE_BAD_TABLE_OPTIONS,ONLY_FULL_GROUP_BY,"
    "NO_UNSIGNED_SUBTRACTION,NO_DIR_IN_CREATE,STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
    "NO_ZERO_DATE,ALLOW_INVALID_DATES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
)
ISOLATION = "READ-UNCOMMITTED,READ-COMMITTED,REPEATABLE-READ,SERIALIZABLE"


def entry(kind, value, low=None, high=None, block=None, enum=None, read_only=False):
    """A row of information_schema.SYSTEM_VARIABLES as the role's probe returns it."""
    return {
        "value": value,
        "type": kind,
        "min": low,
        "max": high,
        "block": block,
        "enum": enum,
        "read_only": read_only,
    }


# The entries of MariaDB 10.11 (Debian 12) for the variables the tests use.
CATALOGUE = {
    "max_connections": entry("INT UNSIGNED", "151", "10", "100000", "1"),
    "thread_cache_size": entry("INT UNSIGNED", "151", "0", "16384", "1"),
    "max_heap_table_size": entry("BIGINT UNSIGNED", "16777216", "16384", "18446744073709550592", "1024"),
    "tmp_table_size": entry("BIGINT UNSIGNED", "16777216", "1024", "18446744073709551615", "1"),
    "innodb_buffer_pool_size": entry(
        "BIGINT UNSIGNED", "134217728", "2097152", "9223372036854775807", "1048576"
    ),
    "innodb_log_file_size": entry("BIGINT UNSIGNED", "100663296", "1048576", "549755813888", "4096"),
    "innodb_io_capacity": entry("BIGINT UNSIGNED", "200", "100", "18446744073709551615", "0"),
    "innodb_flush_neighbors": entry("BIGINT UNSIGNED", "1", "0", "2", "0"),
    "auto_increment_offset": entry("INT", "1", "1", "65535", "1"),
    "long_query_time": entry("DOUBLE", "10.000000", "0", "31536000", None),
    "slow_query_log": entry("BOOLEAN", "OFF", enum="OFF,ON"),
    "performance_schema": entry("BOOLEAN", "OFF", enum="OFF,ON", read_only=True),
    "skip_name_resolve": entry("BOOLEAN", "OFF", enum="OFF,ON", read_only=True),
    "tx_isolation": entry("ENUM", "REPEATABLE-READ", enum=ISOLATION),
    "sql_mode": entry(
        "SET",
        "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
        enum=SQL_MODES,
    ),
    "tls_version": entry(
        "SET", "TLSv1.1,TLSv1.2,TLSv1.3", enum="TLSv1.0,TLSv1.1,TLSv1.2,TLSv1.3", read_only=True
    ),
    "bind_address": entry("VARCHAR", "127.0.0.1", read_only=True),
    "log_error": entry("VARCHAR", "", read_only=True),
}


# --- Numbers with suffixes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("512", 512),
        (512, 512),
        ("1K", 1024),
        ("1k", 1024),
        ("64M", 64 * MIB),
        ("64m", 64 * MIB),
        ("2G", 2 * GIB),
        ("1T", 1024**4),
        ("1P", 1024**5),
        ("-1", -1),
        (" 64M ", 64 * MIB),
        ("18446744073709551615", 18446744073709551615),
        ("1.5G", None),
        ("64MB", None),
        ("64 M", None),
        ("M", None),
        ("", None),
        ("0x10", None),
        ("ON", None),
        (None, None),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


# --- Tuning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("memtotal_mb", "cgroup", "expected"),
    [
        (1024, None, GIB),
        (1024, "max", GIB),
        (1024, "", GIB),
        (65536, str(GIB), GIB),  # a container's limit smaller than the host's memory
        (65536, GIB, GIB),
        (1024, str(4 * GIB), GIB),  # a limit above the memory changes nothing
        (2048, "9223372036854771712", 2 * GIB),  # cgroup v1 "no limit"
        ("2048", "max", 2 * GIB),
    ],
)
def test_memory_is_the_cgroup_limit_when_it_is_smaller(memtotal_mb, cgroup, expected):
    assert memory_bytes(memtotal_mb, cgroup) == expected


# memory, storage, connections, share -> the tuned variables
TUNE_CASES = {
    "1 GiB, ssd": (
        (GIB, "ssd", 70, 0.5),
        {
            "innodb_buffer_pool_size": str(512 * MIB),
            "innodb_log_file_size": str(128 * MIB),
            "innodb_io_capacity": "1000",
            "innodb_flush_neighbors": "0",
            "max_connections": "70",
            "thread_cache_size": "70",
        },
    ),
    "2 GiB, hdd": (
        (2 * GIB, "hdd", 220, 0.5),
        {
            "innodb_buffer_pool_size": str(GIB),
            "innodb_log_file_size": str(256 * MIB),
            "innodb_io_capacity": "200",
            "innodb_flush_neighbors": "1",
            "max_connections": "220",
            "thread_cache_size": "128",
        },
    ),
    "64 GiB, ssd, three quarters": (
        (64 * GIB, "ssd", 1020, 0.75),
        {
            "innodb_buffer_pool_size": str(48 * GIB),
            "innodb_log_file_size": str(12 * GIB),
            "innodb_io_capacity": "1000",
            "innodb_flush_neighbors": "0",
            "max_connections": "1020",
            "thread_cache_size": "128",
        },
    ),
    "64 GiB host in a 1 GiB container": (
        (memory_bytes(65536, str(GIB)), "ssd", 70, 0.5),
        {
            "innodb_buffer_pool_size": str(512 * MIB),
            "innodb_log_file_size": str(128 * MIB),
            "innodb_io_capacity": "1000",
            "innodb_flush_neighbors": "0",
            "max_connections": "70",
            "thread_cache_size": "70",
        },
    ),
    "a share that is not whole chunks rounds down": (
        (1000 * MIB, "ssd", 50, 0.5),
        {"innodb_buffer_pool_size": str(384 * MIB), "innodb_log_file_size": str(96 * MIB)},
    ),
    "0.9 of 1 GiB": (
        (GIB, "ssd", 50, 0.9),
        {"innodb_buffer_pool_size": str(896 * MIB), "innodb_log_file_size": str(224 * MIB)},
    ),
    "little memory: one chunk, the redo log's floor": (
        (300 * MIB, "ssd", 50, 0.5),
        {"innodb_buffer_pool_size": str(128 * MIB), "innodb_log_file_size": str(64 * MIB)},
    ),
    "less memory than a chunk: still one chunk": (
        (64 * MIB, "hdd", 50, 0.05),
        {"innodb_buffer_pool_size": str(128 * MIB), "innodb_log_file_size": str(64 * MIB)},
    ),
}


@pytest.mark.parametrize("case", list(TUNE_CASES))
def test_tune(case):
    arguments, expected = TUNE_CASES[case]
    tuned = tune(*arguments)
    assert {name: tuned[name] for name in expected} == expected
    assert sorted(tuned) == [
        "innodb_buffer_pool_size",
        "innodb_flush_neighbors",
        "innodb_io_capacity",
        "innodb_log_file_size",
        "max_connections",
        "thread_cache_size",
    ]


@pytest.mark.parametrize(
    "memory_mib", [0, 100, 128, 255, 256, 700, 1024, 1536, 3000, 4096, 12345, 65536, 262144]
)
@pytest.mark.parametrize("share", [0.05, 0.25, 0.5, 0.75, 0.9])
def test_the_pool_is_whole_chunks_and_the_redo_log_a_quarter(memory_mib, share):
    tuned = tune(memory_mib * MIB, "ssd", 100, share)
    pool = int(tuned["innodb_buffer_pool_size"])
    redo = int(tuned["innodb_log_file_size"])
    assert CHUNK == 128 * MIB
    assert pool % CHUNK == 0
    assert pool >= CHUNK
    assert pool <= max(CHUNK, memory_mib * MIB * share)
    assert pool + CHUNK > memory_mib * MIB * share  # no whole chunk left out
    assert redo == max(64 * MIB, pool // 4)
    assert redo % MIB == 0
    # plain numbers of bytes: SET GLOBAL takes them as written
    assert all(value.isdigit() for value in tuned.values())


# --- The user's settings against the catalogue ----------------------------------------------

PROBLEM_CASES = {
    # settings -> problems
    "accepted: numbers, words, sizes": (
        {
            "max_connections": "500",
            "tmp_table_size": "64M",
            "max_heap_table_size": "16K",
            "innodb_buffer_pool_size": "1G",
            "auto_increment_offset": "2",
            "long_query_time": "0.5",
            "slow_query_log": "ON",
            "tx_isolation": "READ-COMMITTED",
            "sql_mode": "STRICT_TRANS_TABLES,NO_ZERO_DATE",
            "log_error": "/var/log/mysql/error.log",
        },
        [],
    ),
    "unknown variable": (
        {"innodb_fancy": "1"},
        ["mariadb_settings.innodb_fancy: is not a variable of the installed server (its SYSTEM_VARIABLES)"],
    ),
    "below the range": (
        {"max_connections": "5"},
        ["mariadb_settings.max_connections: '5' is out of the server's range (10 to 100000)"],
    ),
    "above the range": (
        {"max_connections": "100001"},
        ["mariadb_settings.max_connections: '100001' is out of the server's range (10 to 100000)"],
    ),
    "above the range with a suffix": (
        {"thread_cache_size": "1M"},
        ["mariadb_settings.thread_cache_size: '1M' is out of the server's range (0 to 16384)"],
    ),
    "negative for an unsigned variable": (
        {"tmp_table_size": "-1"},
        ["mariadb_settings.tmp_table_size: '-1' is out of the server's range (1024 to 18446744073709551615)"],
    ),
    "below the range of a signed variable": (
        {"auto_increment_offset": "-1"},
        ["mariadb_settings.auto_increment_offset: '-1' is out of the server's range (1 to 65535)"],
    ),
    "not a number": (
        {"max_connections": "lots"},
        [
            "mariadb_settings.max_connections: 'lots' is not a number"
            " (digits with an optional K, M, G, T or P)"
        ],
    ),
    "a fraction for an integer": (
        {"max_connections": "0.5"},
        ["mariadb_settings.max_connections: '0.5' is not a number (digits with an optional K, M, G, T or P)"],
    ),
    "a boolean for an integer": (
        {"max_connections": "ON"},
        ["mariadb_settings.max_connections: 'ON' is not a number (digits with an optional K, M, G, T or P)"],
    ),
    "not a multiple of the block size": (
        {"max_heap_table_size": "16385"},
        ["mariadb_settings.max_heap_table_size: '16385' is not a multiple of 1024, the server's step for it"],
    ),
    "not whole MiB for the buffer pool": (
        {"innodb_buffer_pool_size": "1000000000"},
        [
            "mariadb_settings.innodb_buffer_pool_size: '1000000000' is not a multiple of 1048576,"
            " the server's step for it"
        ],
    ),
    "block size 0 means any step": ({"innodb_io_capacity": "1234"}, []),
    "a bad boolean": (
        {"slow_query_log": "maybe"},
        ["mariadb_settings.slow_query_log: 'maybe' is not ON or OFF"],
    ),
    "two words for a boolean": (
        {"slow_query_log": "ON,OFF"},
        ["mariadb_settings.slow_query_log: 'ON,OFF' is not ON or OFF"],
    ),
    "booleans in every spelling": (
        {"slow_query_log": "on", "performance_schema": "0", "skip_name_resolve": "true"},
        [],
    ),
    "an enum value in lower case": ({"tx_isolation": "read-committed"}, []),
    "an enum value not in the list": (
        {"tx_isolation": "SNAPSHOT"},
        [f"mariadb_settings.tx_isolation: 'SNAPSHOT' is not one of {ISOLATION}"],
    ),
    "two values for an enum": (
        {"tx_isolation": "READ-COMMITTED,SERIALIZABLE"},
        [f"mariadb_settings.tx_isolation: 'READ-COMMITTED,SERIALIZABLE' is not one of {ISOLATION}"],
    ),
    "a set in lower case and any order": ({"sql_mode": "no_zero_date,strict_trans_tables"}, []),
    "a set with an unknown member": (
        {"sql_mode": "STRICT_TRANS_TABLES,NOPE"},
        [f"mariadb_settings.sql_mode: 'STRICT_TRANS_TABLES,NOPE' is not a list of {SQL_MODES}"],
    ),
    "a double": ({"long_query_time": "2"}, []),
    "a double with an exponent": ({"long_query_time": "1e-3"}, []),
    "a double that is no number": (
        {"long_query_time": "abc"},
        ["mariadb_settings.long_query_time: 'abc' is not a number"],
    ),
    "a double out of its range": (
        {"long_query_time": "-1"},
        ["mariadb_settings.long_query_time: '-1' is out of the server's range (0 to 31536000)"],
    ),
    "any word for a string": ({"log_error": "/srv/log/mysql.err"}, []),
    "every problem, in the order given": (
        {"innodb_fancy": "1", "max_connections": "5", "slow_query_log": "maybe"},
        [
            "mariadb_settings.innodb_fancy: is not a variable of the installed server (its SYSTEM_VARIABLES)",
            "mariadb_settings.max_connections: '5' is out of the server's range (10 to 100000)",
            "mariadb_settings.slow_query_log: 'maybe' is not ON or OFF",
        ],
    ),
}


@pytest.mark.parametrize("case", list(PROBLEM_CASES))
def test_catalogue_problems(case):
    settings, expected = PROBLEM_CASES[case]
    problems = catalogue_problems(settings, CATALOGUE)
    assert len(problems) == len(expected), problems
    for problem, prefix in zip(problems, expected, strict=True):
        assert problem.startswith(prefix), problems


def test_no_settings_no_problems():
    assert catalogue_problems({}, CATALOGUE) == []
    assert catalogue_problems({}, {}) == []


# --- Comparing with the running server --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "live", "expected"),
    [
        ("innodb_buffer_pool_size", "512M", "536870912", True),
        ("innodb_buffer_pool_size", "536870912", "536870912", True),
        ("innodb_buffer_pool_size", "1G", "536870912", False),
        ("max_connections", "151", "151", True),
        ("max_connections", "120", "151", False),
        ("max_heap_table_size", "16K", "16384", True),
        ("auto_increment_offset", "2", "2", True),
        ("long_query_time", "0.5", "0.500000", True),
        ("long_query_time", "10", "10.000000", True),
        ("long_query_time", "2", "10.000000", False),
        ("long_query_time", "abc", "10.000000", False),
        ("slow_query_log", "on", "ON", True),
        ("slow_query_log", "ON", "ON", True),
        ("slow_query_log", "1", "ON", True),
        ("slow_query_log", "true", "ON", True),
        ("slow_query_log", "OFF", "ON", False),
        ("slow_query_log", "off", "OFF", True),
        ("slow_query_log", "0", "OFF", True),
        ("slow_query_log", "ON", "OFF", False),
        ("tx_isolation", "read-committed", "READ-COMMITTED", True),
        ("tx_isolation", "SERIALIZABLE", "READ-COMMITTED", False),
        ("sql_mode", "NO_ZERO_DATE,STRICT_TRANS_TABLES", "STRICT_TRANS_TABLES,NO_ZERO_DATE", True),
        ("sql_mode", "strict_trans_tables", "STRICT_TRANS_TABLES", True),
        ("sql_mode", "STRICT_TRANS_TABLES", "STRICT_TRANS_TABLES,NO_ZERO_DATE", False),
        ("tls_version", "TLSv1.2,TLSv1.3", "TLSv1.2,TLSv1.3", True),
        ("tls_version", "TLSv1.2,TLSv1.3", "TLSv1.1,TLSv1.2,TLSv1.3", False),
        ("bind_address", "*", "*", True),
        ("bind_address", "*", "127.0.0.1", False),
        ("log_error", "/var/log/a", "/var/log/A", False),
        ("max_connections", "151", None, False),  # a NULL value is never the configured one
    ],
)
def test_same(name, value, live, expected):
    assert same(value, {**CATALOGUE[name], "value": live}) is expected


def test_same_without_a_type_compares_text():
    assert same("abc", {"value": "abc"}) is True
    assert same("abc", {"value": "ABC"}) is False


def live(**values):
    """The catalogue with these running values."""
    return {name: {**entry, "value": values.get(name, entry["value"])} for name, entry in CATALOGUE.items()}


LIVE_CASES = {
    # configured, running values -> (dynamic, static)
    "everything as configured": (
        {"max_connections": "120", "skip_name_resolve": "ON", "innodb_buffer_pool_size": "512M"},
        {"max_connections": "120", "skip_name_resolve": "ON", "innodb_buffer_pool_size": str(512 * MIB)},
        ([], []),
    ),
    "dynamic only": (
        {"max_connections": "120", "slow_query_log": "ON", "skip_name_resolve": "ON"},
        {"max_connections": "151", "slow_query_log": "OFF", "skip_name_resolve": "ON"},
        ([("max_connections", "120"), ("slow_query_log", "ON")], []),
    ),
    "static only": (
        {"max_connections": "151", "skip_name_resolve": "ON", "tls_version": "TLSv1.2,TLSv1.3"},
        {"skip_name_resolve": "OFF"},
        ([], ["skip_name_resolve", "tls_version"]),
    ),
    "both": (
        {"innodb_buffer_pool_size": "1G", "performance_schema": "ON", "bind_address": "*"},
        {},
        ([("innodb_buffer_pool_size", "1G")], ["bind_address", "performance_schema"]),
    ),
    "a variable the catalogue does not list is left to the file": (
        {"innodb_fancy": "1", "max_connections": "200"},
        {},
        ([("max_connections", "200")], []),
    ),
}


@pytest.mark.parametrize("case", list(LIVE_CASES))
def test_live_changes(case):
    settings, running, expected = LIVE_CASES[case]
    assert live_changes(settings, live(**running)) == expected


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], ""),
        ([("max_connections", "120")], "SET GLOBAL max_connections = 120;"),
        ([("tmp_table_size", "64M")], "SET GLOBAL tmp_table_size = 67108864;"),
        ([("innodb_buffer_pool_size", "2G")], "SET GLOBAL innodb_buffer_pool_size = 2147483648;"),
        ([("long_query_time", "0.5")], "SET GLOBAL long_query_time = 0.5;"),
        ([("long_query_time", "2")], "SET GLOBAL long_query_time = 2.0;"),
        ([("slow_query_log", "ON")], "SET GLOBAL slow_query_log = 'ON';"),
        ([("tx_isolation", "READ-COMMITTED")], "SET GLOBAL tx_isolation = 'READ-COMMITTED';"),
        (
            [("sql_mode", "STRICT_TRANS_TABLES,NO_ZERO_DATE")],
            "SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE';",
        ),
        (
            [("max_connections", "120"), ("slow_query_log", "OFF"), ("thread_cache_size", "120")],
            "SET GLOBAL max_connections = 120, GLOBAL slow_query_log = 'OFF',"
            " GLOBAL thread_cache_size = 120;",
        ),
    ],
)
def test_set_statement(pairs, expected):
    assert set_statement(pairs, CATALOGUE) == expected


def test_the_live_changes_make_one_statement():
    settings = {"max_connections": "300", "tmp_table_size": "64M", "slow_query_log": "ON"}
    dynamic, static = live_changes(settings, CATALOGUE)
    assert static == []
    assert set_statement(dynamic, CATALOGUE) == (
        "SET GLOBAL max_connections = 300, GLOBAL slow_query_log = 'ON', GLOBAL tmp_table_size = 67108864;"
    )
