# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the three containers, psql from the clients, playbook runs with changed variables."""

from __future__ import annotations

import copy
import os
import shlex
import sys
from pathlib import Path

import pytest
import testinfra
import yaml

# molecule/_shared/testlib.py: what the scenarios' tests share (pytest runs from tests/).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_shared"))
pytest.register_assert_rewrite("testlib")
import testlib  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "postgresql.yml").read_text())
SHOP_PASSWORD = VARIABLES["__molecule_shop_password"]
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def get_host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def db():
    return get_host("pg-db")


@pytest.fixture(scope="module")
def app():
    return get_host("pg-app")


@pytest.fixture(scope="module")
def outsider():
    return get_host("pg-outsider")


def psql(
    host, sql, user="shop", password=SHOP_PASSWORD, sslmode="verify-full", dbname="shop", server="pg-db"
):
    """Run SQL with psql on ``host`` against ``server`` over the network; the command's result."""
    conninfo = f"host={server} port=5432 dbname={dbname} user={user} sslmode={sslmode} connect_timeout=5"
    if sslmode.startswith("verify"):
        conninfo += f" sslrootcert={CA_BUNDLE}"
    return host.run(
        f"PGPASSWORD={shlex.quote(password)} psql -X -q -A -t -v ON_ERROR_STOP=1"
        f" {shlex.quote(conninfo)} -c {shlex.quote(sql)}"
    )


def local_sql(host, sql, dbname="postgres"):
    """SQL as postgres over the socket on the database server; its output."""
    return host.check_output(
        f"runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -d {dbname} -c {shlex.quote(sql)}"
    )


def scenario_variables():
    """A deep copy of the scenario's variables, to change for one run."""
    return copy.deepcopy(VARIABLES)


def run_playbook(variables, tmp_path, *options):
    """apply.yml with ``variables``; (rc, output)."""
    return testlib.run_playbook(SCENARIO, INVENTORY, "apply.yml", variables, tmp_path, *options)


def snapshot(host):
    """Checksums of the files the role manages, and the postmaster's start time."""
    return {
        "files": host.check_output(
            "sha256sum /etc/postgresql/*/main/conf.d/groundwork.conf /etc/postgresql/*/main/pg_hba.conf"
        ),
        "started": local_sql(host, "SELECT pg_postmaster_start_time()"),
    }
