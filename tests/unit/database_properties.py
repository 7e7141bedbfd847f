# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The property tests of the database contract that groundwork.server.mariadb and
groundwork.server.postgresql share (issue 16; plugin_utils/_database_contract.py): the port,
certificate, storage, backup, package and flag variables, refused the same way for a role's
prefix, and the passwords of its accounts, never shown in a refusal.

A role's test file (tests/unit/plugins/plugin_utils/test_properties_<role>.py) builds a
``DatabaseInputs`` and subclasses ``DatabaseContractProperties`` as ``TestDatabaseContract``
with ``cases = {**contract_cases(...), **its own}``. Import as
``from database_properties import ...`` (tests/unit is on ``sys.path``)."""

from __future__ import annotations

import string

from bad_values import (
    any_text,
    bad_paths,
    control_strings,
    escaping_names,
    non_strings,
    out_of_range,
    refused,
    with_one_of,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from role_properties import BAD_VALUES, SHARED, bad_values_of, not_in, package_cases, plus_control

SECRET = "S3cret-pass"
LOWER = string.ascii_lowercase


def non_ascii_digits():
    return st.text(string.digits + "٠١٢²³５", min_size=1, max_size=4).filter(lambda s: not s.isascii())


def not_flags():
    """Values a yes/no variable must refuse (it takes a boolean only)."""
    return st.one_of(any_text(), st.integers(), st.none(), st.lists(st.booleans(), max_size=2))


class DatabaseInputs:
    """A database role's inputs: its variable prefix, the variable of its accounts (each with
    a password), its valid input and the problems its validation reports for it changed."""

    def __init__(self, prefix, accounts, valid, errors_of):
        self.prefix = prefix
        self.accounts = accounts
        self.valid = valid
        self.errors_of = errors_of

    def item(self, var, index=0, **keys):
        """``var`` with its item ``index`` of the valid input changed by ``keys``."""
        items = [dict(entry) for entry in self.valid[var]]
        items[index].update(keys)
        return {var: items}


def contract_cases(
    inputs, contract, *, bad_names, bad_whole, port, package, server_dirs, system_root, cache_time_max, grant
):
    """The cases of the database contract's variables for the role of ``inputs`` (a
    DatabaseInputs): (the field each message must name, how to set the bad value, the values),
    by id. ``contract`` is the role's _database_contract; ``bad_names``/``bad_whole`` its
    strategies of bad names and whole numbers; ``port`` and ``package`` valid values;
    ``server_dirs`` the server's own directories, ``system_root`` a system directory no backup
    goes under, ``cache_time_max`` the longest apt cache time (seconds) and ``grant`` how
    messages name the valid input's first grant (``<account> on <database>``)."""

    prefix = inputs.prefix

    def var(name):
        return lambda v: {f"{prefix}_{name}": v}

    return {
        "database state": (
            f"{prefix}_databases[0] (shop): state",
            lambda v: inputs.item(f"{prefix}_databases", state=v),
            st.one_of(not_in(any_text(), ("present", "absent")), non_strings()),
        ),
        "grant database": (
            f"{prefix}_grants[0]",
            lambda v: inputs.item(f"{prefix}_grants", database=v),
            st.one_of(bad_names, not_in(st.text(LOWER, min_size=1, max_size=8), ("shop",))),
        ),
        "grant state": (
            f"{prefix}_grants[0] ({grant}): state",
            lambda v: inputs.item(f"{prefix}_grants", state=v),
            st.one_of(not_in(any_text(), ("present", "absent")), non_strings()),
        ),
        "port": (
            f"{prefix}_port",
            var("port"),
            st.one_of(out_of_range(1, 65535), bad_whole, plus_control(port)),
        ),
        "certificate": (
            f"{prefix}_certificate",
            var("certificate"),
            st.one_of(
                control_strings(LOWER),
                escaping_names(),
                non_strings(),
                with_one_of(string.ascii_uppercase + " /\\'\"$;%{}", LOWER, min_size=1),
                not_in(st.text(LOWER + string.digits, min_size=1, max_size=10), ("db",)),
            ),
        ),
        "storage": (
            f"{prefix}_storage",
            var("storage"),
            st.one_of(not_in(any_text(), ("ssd", "hdd")), non_strings(), plus_control("ssd")),
        ),
        "backup enabled": (f"{prefix}_backup_enabled", var("backup_enabled"), not_flags()),
        "backup dir": (
            f"{prefix}_backup_dir",
            var("backup_dir"),
            st.one_of(
                bad_paths(),
                escaping_names(),
                non_strings(),
                with_one_of(" ;'\"$%\\{}", LOWER).map(lambda s: "/var/backups/" + s),
                st.sampled_from([*contract.BACKUP_ROOTS, "/", "/etc", "/root", *server_dirs]),
                st.text(LOWER, min_size=1, max_size=8).map(lambda s: "/etc/" + s),
                st.text(LOWER, min_size=1, max_size=8).map(lambda s: system_root + s),
            ),
        ),
        "backup keep": (
            f"{prefix}_backup_keep",
            var("backup_keep"),
            st.one_of(out_of_range(1, contract.MAX_KEEP), bad_whole),
        ),
        "backup schedule": (
            f"{prefix}_backup_schedule",
            var("backup_schedule"),
            st.one_of(
                plus_control("*-*-* 02:30:00"),
                non_strings(),
                with_one_of("%;'\"\\{}$=#", "*-*-* 02:30:00"),
                st.text(LOWER, min_size=1, max_size=8).filter(lambda w: w not in contract.CALENDAR_WORDS),
                st.sampled_from(["", " ", "daily daily", "*-*-* 02:30:00 x y", "02:30 *-*-*", "Mon Tue"]),
            ),
        ),
        "backup database": (
            f"{prefix}_backup_databases",
            lambda v: {f"{prefix}_backup_databases": [v]},
            st.one_of(bad_names, not_in(st.text(LOWER, min_size=1, max_size=8), ("shop",))),
        ),
        **package_cases(prefix, package),
        "apt cache valid time": (
            f"{prefix}_apt_cache_valid_time",
            var("apt_cache_valid_time"),
            st.one_of(out_of_range(0, cache_time_max), bad_whole),
        ),
        **{
            f"{prefix}_{flag}": (f"{prefix}_{flag}", var(flag), not_flags())
            for flag in ("require_vaulted_passwords", "allow_any_source")
        },
    }


class DatabaseContractProperties:
    """The tests every database role passes; a role's test file subclasses this as
    ``TestDatabaseContract`` and sets ``inputs`` (a DatabaseInputs) and ``cases``
    (contract_cases and its own: the field, how to set a value, the values, by id)."""

    inputs: DatabaseInputs
    cases: dict

    def pytest_generate_tests(self, metafunc):
        """Each of ``cases`` is one case of the test that asks for ``case``, by its id."""
        if "case" in metafunc.fixturenames:
            metafunc.parametrize("case", list(self.cases))

    @BAD_VALUES
    @given(data=st.data())
    def test_every_bad_value_is_refused_naming_its_field(self, case, data):
        field, changes, strategy = self.cases[case]
        for value in bad_values_of(data, strategy, label=field):
            problems = self.inputs.errors_of(**changes(value))
            assert refused(problems, field), (value, problems)

    @settings(SHARED)
    @given(
        password=st.one_of(
            plus_control(SECRET), control_strings(string.ascii_letters + string.digits + "!$%&/")
        )
    )
    def test_a_bad_password_is_refused_without_showing_it(self, password):
        accounts = self.inputs.accounts
        problems = self.inputs.errors_of(**self.inputs.item(accounts, password=password))
        assert refused(problems, f"{accounts}[0] (shop): password")
        assert not any(password in message or repr(password)[1:-1] in message for message in problems)

    @settings(SHARED)
    @given(
        password=st.text(string.ascii_letters + string.digits + "!$%&/()=?'\"\\ ;#", max_size=30).map(
            lambda text: "pw-" + text
        )
    )
    def test_a_password_in_clear_is_refused_where_vaulted_ones_are_required(self, password):
        accounts = self.inputs.accounts
        changes = {
            f"{self.inputs.prefix}_require_vaulted_passwords": True,
            **self.inputs.item(accounts, password=password),
        }
        problems = self.inputs.errors_of(**changes)
        assert refused(problems, f"{accounts}[0] (shop): password is given in clear")
        assert not any(password in message for message in problems)


# --- valid values ---------------------------------------------------------------------------

VALID_CALENDAR = st.one_of(
    st.sampled_from(
        ["*-*-* 02:30:00", "daily", "Mon..Fri 03:00", "*-*-* 04:00:00 UTC", "Sun *-*-1..7 05:00"]
    ),
    st.builds(lambda h, m: f"*-*-* {h:02d}:{m:02d}:00", st.integers(0, 23), st.integers(0, 59)),
)
