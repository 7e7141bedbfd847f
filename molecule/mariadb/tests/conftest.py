# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the three containers, the mariadb client from the clients and as root on the
server, the server's start time, playbook runs with changed variables."""

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
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "mariadb.yml").read_text())
PASSWORDS = {
    "shop": VARIABLES["__molecule_shop_password"],
    "report": VARIABLES["__molecule_report_password"],
}
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CONFIG = "/etc/mysql/mariadb.conf.d/90-groundwork.cnf"
HOOK = "/etc/groundwork/tls/hooks/db.d/mariadb"
BACKUP_UNIT = "groundwork-mariadb-backup"
# How the client connects: TLS with the server's certificate verified against the system's
# trust store (which holds the scenario's CA), or without TLS at all.
TLS_OPTIONS = {
    "verify": f"--ssl --ssl-verify-server-cert --ssl-ca={CA_BUNDLE}",
    "off": "--skip-ssl",
}
# What a refused run must leave as it was, read in one command: the role's files, the server
# process (systemd's main PID and start stamp are exact, unlike the uptime), the variables the
# tests change, the accounts and their privileges.
SNAPSHOT_SQL = (
    "SELECT VARIABLE_NAME, GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME IN"
    " ('BIND_ADDRESS', 'REQUIRE_SECURE_TRANSPORT', 'SSL_CERT', 'MAX_CONNECTIONS', 'LONG_QUERY_TIME',"
    " 'INNODB_BUFFER_POOL_SIZE', 'INNODB_FLUSH_METHOD', 'OPTIMIZER_SWITCH') ORDER BY 1;"
    " SELECT User, Host, Priv FROM mysql.global_priv ORDER BY 1, 2;"
    " SELECT User, Host, Db, '*', Select_priv, Insert_priv, Update_priv, Delete_priv FROM mysql.db"
    " UNION ALL SELECT User, Host, Db, Table_name, Table_priv, '', '', '' FROM mysql.tables_priv"
    " ORDER BY 1, 2, 3, 4"
)
SNAPSHOT = {
    "files": f"sha256sum {CONFIG} {HOOK} /etc/systemd/system/{BACKUP_UNIT}.service"
    f" /etc/systemd/system/{BACKUP_UNIT}.timer",
    "process": "systemctl show mariadb.service -p MainPID -p ExecMainStartTimestampMonotonic",
    "server": f"mariadb --batch --skip-column-names -e {shlex.quote(SNAPSHOT_SQL)}",
}
SECTION = "--- groundwork snapshot section ---"


def get_host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def db():
    return get_host("md-db")


@pytest.fixture(scope="module")
def app():
    return get_host("md-app")


@pytest.fixture(scope="module")
def outsider():
    return get_host("md-outsider")


@pytest.fixture(scope="module")
def app_address(db):
    """md-app's address, as the database server sees it."""
    return address(db, "md-app")


def address(host, name):
    """The address of the container ``name`` as ``host`` resolves it."""
    return host.check_output(f"getent ahostsv4 {name}").split()[0]


def client(host, sql, user="shop", password=None, tls="verify", server="md-db", database="shop", timeout=5):
    """Run SQL with the mariadb client on ``host`` against ``server`` over TCP; the command's
    result. The password travels in the environment (MYSQL_PWD), not on the command line."""
    password = PASSWORDS.get(user, "") if password is None else password
    options = [
        "--batch",
        "--skip-column-names",
        f"--connect-timeout={timeout}",
        TLS_OPTIONS[tls],
        f"--host={server}",
        "--port=3306",
        f"--user={shlex.quote(user)}",
    ]
    if database:
        options.append(f"--database={database}")
    return host.run(
        f"MYSQL_PWD={shlex.quote(password)} mariadb --no-defaults {' '.join(options)} -e {shlex.quote(sql)}"
    )


def local_sql(host, sql):
    """SQL as root through the server's unix socket on the database server; its output."""
    return host.check_output(f"mariadb --batch --skip-column-names -e {shlex.quote(sql)}")


def variables(host, *names):
    """The running server's global values of ``names``, in one query: {name: value}."""
    values = local_sql(host, "SELECT " + ", ".join(f"@@global.{name}" for name in names))
    return dict(zip(names, values.split("\t"), strict=True))


def started(host):
    """When the server started (seconds since the epoch), from its uptime."""
    return int(
        local_sql(
            host,
            "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
            " WHERE VARIABLE_NAME = 'UPTIME'",
        )
    )


def same_start(before, after, tolerance=3):
    """Whether two start times (``started``) are those of the same server process: the uptime
    counts whole seconds, so the difference may be a second or two."""
    return abs(after - before) <= tolerance


def grants(host, user, client_address):
    """SHOW GRANTS of ``user``'s account for ``client_address``, one line each, the password
    hashes cut off."""
    lines = local_sql(host, f"SHOW GRANTS FOR '{user}'@'{client_address}'").splitlines()
    return [line.split(" IDENTIFIED ")[0] for line in lines]


def scenario_variables():
    """A deep copy of the scenario's variables, to change for one run."""
    return copy.deepcopy(VARIABLES)


def run_playbook(variables, tmp_path, *options):
    """apply.yml with ``variables``; (rc, output)."""
    return testlib.run_playbook(SCENARIO, INVENTORY, "apply.yml", variables, tmp_path, *options)


def snapshot(host):
    """The state a refused run must leave as it was (SNAPSHOT), by section."""
    output = host.check_output(f" && echo '{SECTION}' && ".join(SNAPSHOT.values()))
    return dict(zip(SNAPSHOT, output.split(SECTION), strict=True))
