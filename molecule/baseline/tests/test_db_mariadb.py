# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dev-sec.io's MySQL baseline (mysql-baseline, controls mysql-conf-02 to mysql-conf-09 and
mysql-db-01 to mysql-db-08), written here in Testinfra against MariaDB on bl-db2, reconciled
with Mozilla's TLS guidance (intermediate).

Values are the EFFECTIVE ones: the running server's variables (`SHOW GLOBAL VARIABLES`), its
accounts (mysql.user and mysql.global_priv), read as root over the socket; the options the
server binary reads from every configuration file (`mariadbd --verbose --help`) where no
variable shows them; `stat` of the files it really reads; the running processes; and real
attempts from bl-app (allowed by the firewall) and bl-client (not allowed): TLS handshakes
per protocol and cipher, and logins - without TLS, with a wrong password, as root - through
the MySQL protocol itself. A control we deliberately deviate from is a strict xfail whose
reason is the deviation; one the role does not yet meet is a strict xfail "deviation: ...".
"""

from __future__ import annotations

import functools
import json
import re

import pytest
from dbbaseline import (
    APP,
    CLIENT,
    WRONG_PASSWORD,
    accepted_tls12_outside,
    address,
    host,
    mode_of,
    python,
    reachable,
    tls_protocol_accepted,
)
from webbaseline import MOZILLA_INTERMEDIATE_TLS12

DB = "bl-db2"
PORT = 3306
USER = "counter"
# The accounts dev-sec allows the grant option (the administrators of the host).
ADMINS = {("root", "localhost"), ("debian-sys-maint", "localhost"), ("mysql", "localhost")}


def sql(query):
    """One query's rows as lists of fields (batch mode: tab-separated, no column names)."""
    out = host(DB).check_output(f'mariadb --no-defaults --user=root -NBe "{query}"')
    return [line.split("\t") for line in out.splitlines()]


@functools.cache
def variables():
    return dict(sql("SHOW GLOBAL VARIABLES"))


@functools.cache
def options():
    """The options the server binary reads from every configuration file: {name: value}."""
    found = {}
    for line in host(DB).check_output("mariadbd --verbose --help 2>/dev/null").splitlines():
        match = re.match(r"^([a-z][a-z0-9_-]+)\s+(.*)$", line)
        if match:
            found[match.group(1).replace("_", "-")] = match.group(2).strip()
    return found


@functools.cache
def accounts():
    """[(user, host, privileges as JSON)] from mysql.global_priv."""
    return [
        (user, where, json.loads(priv))
        for user, where, priv in sql("SELECT user, host, priv FROM mysql.global_priv")
    ]


LOGIN_PROBE = """
    import socket, ssl, struct, sys

    target, port, user, use_tls = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[5] == "tls"
    sock = socket.create_connection((target, port), timeout=5)
    stream = sock

    def recv(count):
        data = b""
        while len(data) < count:
            chunk = stream.recv(count - len(data))
            if not chunk:
                raise EOFError("closed by the server")
            data += chunk
        return data

    def read():
        head = recv(4)
        return head[3], recv(int.from_bytes(head[:3], "little"))

    def send(seq, payload):
        stream.sendall(len(payload).to_bytes(3, "little") + bytes([seq & 0xFF]) + payload)

    def verdict(payload):
        if payload[:1] == b"\\xff":
            text = payload[3:].decode(errors="replace")
            print("REFUSED", struct.unpack("<H", payload[1:3])[0], text[6:] if text[:1] == "#" else text)
        elif payload[:1] == b"\\x00":
            print("CONNECTED")
        else:
            print("OTHER", payload[:1].hex())

    try:
        seq, greeting = read()
        if greeting[:1] == b"\\xff":
            verdict(greeting)
            sys.exit(0)
        # protocol 4.1, long password, secure connection, plugin authentication
        caps = 0x1 | 0x200 | 0x8000 | 0x80000
        if use_tls:
            caps |= 0x800
            seq += 1
            send(seq, struct.pack("<IIB23s", caps, 1 << 24, 33, b""))
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            stream = context.wrap_socket(sock)
        # A scramble of zeros is no password's answer: whatever the password, it is wrong.
        payload = struct.pack("<IIB23s", caps, 1 << 24, 33, b"") + user.encode() + b"\\0"
        payload += bytes([20]) + bytes(20) + b"mysql_native_password\\0"
        send(seq + 1, payload)
        seq, answer = read()
        if answer[:1] == b"\\xfe":  # the account's own plugin asks again: answered wrongly too
            send(seq + 1, bytes(64))
            seq, answer = read()
        verdict(answer)
    except (OSError, EOFError) as error:
        print("CLOSED", type(error).__name__, error)
"""


def login(user, transport):
    """A login attempt from bl-app in the MySQL protocol (`transport` "tls" or "plain"), with a
    wrong password (bl-app has no MariaDB client; the application reaches PostgreSQL)."""
    return python(APP, LOGIN_PROBE, address(DB), str(PORT), user, WRONG_PASSWORD, transport)


def xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


DEVIATION_SAFE_USER_CREATE = (
    "deviation: safe-user-create is off (MariaDB's default); only root and mysql hold the grant "
    "option (mysql-db-06), so no application account could create users anyway"
)
DEVIATION_SECURE_FILE_PRIV = (
    "deviation: secure_file_priv is empty: LOAD DATA INFILE / SELECT ... INTO OUTFILE may use any "
    "path the server can write; only root and mysql hold the FILE privilege"
)
DEVIATION_SYMLINKS = (
    "deviation: symbolic links stay allowed (have_symlink YES): a table's DATA or INDEX DIRECTORY "
    "needs the FILE privilege, which only root and mysql hold"
)
DEVIATION_SHOW_DATABASE = (
    "deviation: skip_show_database is OFF; MariaDB shows an account only the databases it has a "
    "privilege on, but SHOW DATABASES stays open to every account"
)
DEVIATION_CONFIG_MODE = (
    "deviation: the configuration files keep Debian's root:root 0644 "
    "(my.cnf -> mariadb.cnf, mariadb.conf.d/90-groundwork.cnf); dev-sec wants group mysql and "
    "no access for others. They hold no secret (the key is under /etc/ssl/groundwork), and "
    "my.cnf also carries the [client] settings local users' clients read"
)
NA_SECURE_AUTH = "n/a: dev-sec checks secure-auth only on MySQL before 8.0.3, not on MariaDB"
NA_LOG_FILE = (
    "n/a: log_error is empty: the error log goes to the journal (stderr of mariadb.service), "
    "not to a file (dev-sec: only where log_error names a file)"
)
NA_MYSQL_ONLY_05B = "n/a: mysql.user has a password column on MariaDB (dev-sec: mysql-db-05b only without it)"


# --- mysql-conf-* -------------------------------------------------------------------------
def test_mysql_conf_02_one_instance():
    assert host(DB).check_output("pgrep -x -c mariadbd || true") == "1"
    assert host(DB).check_output("pgrep -x -c mysqld || true") == "0"


# mysql-conf-03's settings, each as the running server (or, without a variable, the binary
# reading every configuration file) has it.
SECURE_CONFIGURATION = {
    # name: (read the effective value, what dev-sec requires)
    "safe-user-create": (lambda: options()["safe-user-create"], lambda v: v == "TRUE"),
    "old_passwords": (lambda: variables()["old_passwords"], lambda v: v == "OFF"),
    "user": (lambda: host(DB).check_output("ps -o user= -C mariadbd"), lambda v: v == "mysql"),
    "secure_file_priv": (lambda: variables()["secure_file_priv"], lambda v: v not in ("", "NULL")),
    "local_infile": (lambda: variables()["local_infile"], lambda v: v == "OFF"),
    "skip-symbolic-links": (lambda: variables()["have_symlink"], lambda v: v == "DISABLED"),
    "skip_show_database": (lambda: variables()["skip_show_database"], lambda v: v == "ON"),
    "skip_grant_tables": (lambda: variables()["skip_grant_tables"], lambda v: v == "OFF"),
    "allow_suspicious_udfs": (lambda: variables()["allow_suspicious_udfs"], lambda v: v == "OFF"),
}
SECURE_DEVIATIONS = {
    "safe-user-create": DEVIATION_SAFE_USER_CREATE,
    "secure_file_priv": DEVIATION_SECURE_FILE_PRIV,
    "skip-symbolic-links": DEVIATION_SYMLINKS,
    "skip_show_database": DEVIATION_SHOW_DATABASE,
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[xfail(SECURE_DEVIATIONS[name])] if name in SECURE_DEVIATIONS else [])
        for name in SECURE_CONFIGURATION
    ],
)
def test_mysql_conf_03_secure_configuration(name):
    read, good = SECURE_CONFIGURATION[name]
    value = read()
    assert good(value), f"{DB}: {name} is {value!r}, not as dev-sec requires"


@pytest.mark.skip(reason=NA_SECURE_AUTH)
def test_mysql_conf_03b_secure_auth():
    assert variables()["secure_auth"] == "ON"


def test_mysql_conf_03_tls_required():
    """Reconciled with Mozilla intermediate: remote clients only over TLS 1.2 or 1.3, with the
    server's certificate (not a self-signed default) and only the intermediate suites."""
    values = variables()
    assert values["require_secure_transport"] == "ON"
    assert values["have_ssl"] == "YES"
    assert set(values["tls_version"].split(",")) <= {"TLSv1.2", "TLSv1.3"}, values["tls_version"]
    assert values["ssl_cert"].startswith("/etc/ssl/groundwork/"), values["ssl_cert"]
    assert set(values["ssl_cipher"].split(":")) <= MOZILLA_INTERMEDIATE_TLS12, values["ssl_cipher"]


def test_mysql_conf_03_handshake_from_app():
    assert tls_protocol_accepted(DB, PORT, "mysql", "tls1_3")
    assert tls_protocol_accepted(DB, PORT, "mysql", "tls1_2")


@pytest.mark.parametrize("protocol", ["tls1", "tls1_1"])
def test_mysql_conf_03_no_old_protocols(protocol):
    assert not tls_protocol_accepted(DB, PORT, "mysql", protocol)


def test_mysql_conf_03_mozilla_intermediate_ciphers():
    outside = accepted_tls12_outside(DB, PORT, "mysql", MOZILLA_INTERMEDIATE_TLS12)
    assert outside == [], f"{DB} accepts {outside} over TLS 1.2"


def test_mysql_conf_04_data_directory():
    path = variables()["datadir"].rstrip("/")
    mode, owner, group, kind = mode_of(DB, path)
    assert (owner, group, kind) == ("mysql", "mysql", "directory")
    assert mode & 0o002 == 0, f"{path} is {mode:o}"


def test_mysql_conf_05_data_files():
    path = variables()["datadir"].rstrip("/") + "/ibdata1"
    mode, owner, group, _kind = mode_of(DB, path)
    assert (owner, group) == ("mysql", "mysql")
    assert mode & 0o007 == 0, f"{path} is {mode:o}"


@pytest.mark.skip(reason=NA_LOG_FILE)
def test_mysql_conf_06_log_file():
    assert variables()["log_error"]


def test_mysql_conf_06_log_to_journal():
    """What holds instead: no error log file anyone could read; the journal has it."""
    assert variables()["log_error"] == ""
    assert host(DB).check_output("systemctl show -P StandardError mariadb.service") in ("inherit", "journal")


@xfail(DEVIATION_CONFIG_MODE)
def test_mysql_conf_07_config_file():
    mode, owner, group, kind = mode_of(DB, "/etc/mysql/my.cnf")
    assert (owner, group, kind) == ("root", "mysql", "regular file")
    assert mode & 0o007 == 0, f"/etc/mysql/my.cnf is {mode:o}"


@xfail(DEVIATION_CONFIG_MODE)
def test_mysql_conf_08_hardening_file():
    """dev-sec's conf.d/hardening.cnf is, here, the role's mariadb.conf.d/90-groundwork.cnf."""
    path = "/etc/mysql/mariadb.conf.d/90-groundwork.cnf"
    mode, owner, group, _kind = mode_of(DB, path)
    assert (owner, group) == ("root", "mysql")
    assert mode & 0o007 == 0, f"{path} is {mode:o}"


def test_mysql_conf_07_08_not_writable():
    """What holds: every configuration file belongs to root and only root may change it."""
    files = host(DB).check_output("find -L /etc/mysql -type f").split()
    assert "/etc/mysql/mariadb.conf.d/90-groundwork.cnf" in files
    for path in files:
        mode, owner, _group, _kind = mode_of(DB, path)
        assert owner == "root" and mode & 0o022 == 0, f"{path}: {owner} {mode:o}"


def test_mysql_conf_09_no_mysql_pwd():
    """MYSQL_PWD in no environment: the server's, the units' (server and backup), root's
    shell, nor any file that could set it."""
    pid = host(DB).check_output("pgrep -x mariadbd")
    names = host(DB).check_output(f"tr '\\0' '\\n' < /proc/{pid}/environ | cut -d= -f1").split()
    assert "MYSQL_PWD" not in names
    for unit in ("mariadb.service", "groundwork-mariadb-backup.service"):
        assert "MYSQL_PWD" not in host(DB).check_output(f"systemctl show -P Environment {unit}")
    assert "MYSQL_PWD=" not in host(DB).check_output("env")
    found = host(DB).run("grep -rl MYSQL_PWD /etc /usr/lib/systemd/system")
    assert found.stdout.strip() == "", f"MYSQL_PWD set in {found.stdout.split()}"


# --- mysql-db-* ---------------------------------------------------------------------------
def test_mysql_db_01_supported_version():
    version = sql("SELECT version()")[0][0]
    assert "Community" not in version, version
    assert "MariaDB" in version, version


def test_mysql_db_02_version_5_or_higher():
    assert int(sql("SELECT substring_index(version(), '.', 1)")[0][0]) >= 5


def test_mysql_db_03_no_test_database():
    assert sql("SHOW DATABASES LIKE 'test'") == []
    assert sql("SHOW DATABASES LIKE 'test\\_%'") == []


def test_mysql_db_04_no_anonymous_user():
    assert sql("SELECT user, host FROM mysql.user WHERE user = ''") == []


def test_mysql_db_05_no_empty_password():
    empty = sql(
        "SELECT user, host FROM mysql.user WHERE (length(password) = 0 OR password = '') "
        "AND (length(authentication_string) = 0 OR authentication_string = '') "
        "AND NOT (user = 'mariadb.sys' AND host = 'localhost') AND is_role = 'N'"
    )
    assert empty == [], f"accounts without a password: {empty}"


def test_mysql_db_05_accounts_authenticate():
    """Reconciled from mysql.global_priv: every account is locked, or may log in only as the
    system user of its name over the socket (unix_socket), or has a password hash; one that
    may log in over the network needs a hash and TLS (REQUIRE SSL)."""
    for user, where, priv in accounts():
        if priv.get("account_locked"):
            continue
        methods = [priv, *priv.get("auth_or", [])]
        real = [m for m in methods if m.get("plugin") == "unix_socket" or m.get("authentication_string", "")]
        real = [m for m in real if m.get("authentication_string") != "invalid"]
        assert real, f"{user}@{where} may log in without a password: {[m.get('plugin') for m in methods]}"
        if where not in ("localhost", "127.0.0.1", "::1"):
            assert priv.get("authentication_string"), f"{user}@{where}: no password"
            assert priv.get("ssl_type", 0) != 0, f"{user}@{where} may log in without TLS"


@pytest.mark.skip(reason=NA_MYSQL_ONLY_05B)
def test_mysql_db_05b_no_empty_authentication_string():
    assert sql("SELECT user FROM mysql.user WHERE authentication_string = ''") == []


def test_mysql_db_06_no_grant_option():
    granting = set(map(tuple, sql("SELECT user, host FROM mysql.user WHERE grant_priv = 'Y'")))
    assert granting <= ADMINS, f"accounts with the grant option: {granting - ADMINS}"
    per_database = list(sql("SELECT user, host, db FROM mysql.db WHERE grant_priv = 'Y'"))
    assert [row for row in per_database if (row[0], row[1]) not in ADMINS] == [], per_database


def test_mysql_db_07_no_wildcard_hosts():
    assert sql("SELECT user, host FROM mysql.user WHERE host = '%'") == []
    wildcards = sql("SELECT user, host FROM mysql.user WHERE host LIKE '%\\%%' OR host LIKE '%\\_%'")
    assert wildcards == [], f"accounts for a host pattern: {wildcards}"


def test_mysql_db_07_client_cannot_reach():
    """bl-client is in no firewall flow to the databases: it does not reach the port."""
    assert reachable(APP, DB, PORT), f"{APP} does not reach {DB}:{PORT} (the test proves nothing)"
    assert not reachable(CLIENT, DB, PORT), f"{CLIENT} reaches {DB}:{PORT}"


def test_mysql_db_07_wrong_password_refused():
    """A real login from bl-app (the account's own host) over TLS with a wrong password."""
    answer = login(USER, "tls")
    assert answer.startswith("REFUSED 1045"), answer


def test_mysql_db_07_plain_connection_refused():
    """A real login from bl-app without TLS: refused before any password is looked at."""
    answer = login(USER, "plain")
    assert answer.startswith("REFUSED 3159"), answer


def test_mysql_db_08_root_localhost_only():
    remote = sql(
        "SELECT host FROM mysql.user WHERE user = 'root' AND host NOT IN ('localhost', '127.0.0.1', '::1')"
    )
    assert remote == [], f"root may log in from {remote}"


def test_mysql_db_08_root_refused_from_app():
    answer = login("root", "tls")
    assert answer.startswith("REFUSED 1045"), answer
