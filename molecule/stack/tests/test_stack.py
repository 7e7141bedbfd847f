# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The three tiers end to end, seen from a client and from inside each tier."""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path
from urllib.parse import urlsplit

from conftest import (
    ANSWER,
    APP1,
    APP2,
    DATABASE,
    DB,
    DB_PORT,
    ERROR_LOG,
    LB,
    PROXY_ERROR,
    WEB_UNIT,
    answers,
    get,
    run_playbook,
)

APP = "demo"


def test_https_through_the_balancer_reaches_both_app_servers_and_the_counter_rises(client):
    seen = answers(client, 8)
    assert {a["host"] for a in seen} == {APP1, APP2}
    counters = [int(a["counter"]) for a in seen]
    assert counters == sorted(counters) and len(set(counters)) == len(counters)


def test_plain_http_is_redirected_to_https(client):
    status = get(client, f"http://{LB}/some/path")[0]
    assert status == 308


def test_the_certificate_is_the_internal_cas_for_the_balancers_name(client):
    out = client.check_output(
        f"echo | openssl s_client -connect {LB}:443 -servername {LB} -verify_return_error 2>/dev/null"
        " | openssl x509 -noout -subject -issuer"
    )
    assert f"CN = {LB}" in out or f"CN={LB}" in out
    assert "groundwork-stack" in out


def _tcp(host, target, port):
    """rc of a TCP connect from host to target:port within 4 s (124: no answer at all)."""
    return host.run(f"timeout 4 bash -c 'exec 3<>/dev/tcp/{target}/{port}'").rc


def _database_url(app):
    env = app.file(f"/etc/{APP}/env").content_string
    line = next(v for v in env.splitlines() if v.startswith("DATABASE_URL="))
    return line.split("=", 1)[1].strip().strip('"')


# A login from an app server with the application's own URL and driver, with TLS verified
# (verify-full) or without TLS (disable): prints whether the session is encrypted, or exits 3.
CONNECT = {
    "postgresql": (
        "import sys, psycopg2\n"
        "try:\n"
        "    c = psycopg2.connect(sys.argv[1], sslmode=sys.argv[2], connect_timeout=5)\n"
        "except psycopg2.OperationalError as e:\n"
        "    print('refused:', e); sys.exit(3)\n"
        "cur = c.cursor(); cur.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')\n"
        "print('ssl', cur.fetchone()[0])\n"
    ),
    "mariadb": (
        "import sys, urllib.parse as p, pymysql\n"
        "u = p.urlsplit(sys.argv[1])\n"
        "tls = {'ca': '/etc/ssl/certs/ca-certificates.crt', 'check_hostname': True}\n"
        "try:\n"
        "    c = pymysql.connect(host=u.hostname, port=u.port, user=p.unquote(u.username),\n"
        "        password=p.unquote(u.password), database=u.path[1:], connect_timeout=5,\n"
        "        ssl=tls if sys.argv[2] == 'verify-full' else None)\n"
        "except pymysql.MySQLError as e:\n"
        "    print('refused:', e); sys.exit(3)\n"
        "cur = c.cursor(); cur.execute(\"SHOW SESSION STATUS LIKE 'Ssl_cipher'\")\n"
        "print('ssl', bool(cur.fetchone()[1]))\n"
    ),
}
# What the server answers a login without TLS (MariaDB: the account's REQUIRE SSL refuses it
# as a failed login before require_secure_transport would; the same password just logged in
# over TLS).
NO_TLS = {"postgresql": ("no encryption", "pg_hba.conf"), "mariadb": ("insecure transport", "Access denied")}


def _connect(app, url, sslmode):
    parts = urlsplit(url)
    encoded = base64.b64encode(CONNECT[DATABASE].encode()).decode()
    dsn = f"{parts.scheme}://{parts.netloc}{parts.path}?sslrootcert=/etc/ssl/certs/ca-certificates.crt"
    return app.run(f"echo {encoded} | base64 -d | python3 - '{dsn}' {sslmode}")


def test_the_database_port_is_closed_from_the_balancer(lb):
    assert _tcp(lb, DB, DB_PORT) == 124


def test_the_database_is_open_from_an_app_server_over_tls_only(app1):
    assert _tcp(app1, DB, DB_PORT) == 0
    url = _database_url(app1)
    verified = _connect(app1, url, "verify-full")
    assert verified.rc == 0 and "ssl True" in verified.stdout, verified.stdout + verified.stderr
    plain = _connect(app1, url, "disable")
    assert plain.rc == 3, plain.stdout
    assert any(text in plain.stdout for text in NO_TLS[DATABASE]), plain.stdout


def _wait_healthy(app, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        probe = "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
        if app.run(f'python3 -c "{probe}"').rc == 0:
            return
        time.sleep(1)
    raise AssertionError("the application did not become healthy again")


def test_a_stopped_app_server_is_routed_around(client, app1):
    app1.check_output(f"systemctl stop {APP}.service")
    try:
        seen = answers(client, 20)
        assert {a["host"] for a in seen} == {APP2}
    finally:
        app1.check_output(f"systemctl start {APP}.service")
        _wait_healthy(app1)
    # The balancer tries a server it saw failing again after fail_timeout (10 s): then both answer.
    deadline = time.monotonic() + 40
    while {a["host"] for a in answers(client, 4)} != {APP1, APP2}:
        assert time.monotonic() < deadline, "the restarted app server did not get requests again"
        time.sleep(2)


def test_a_rolling_deploy_under_load_fails_no_request(client, lb):
    script = (Path(__file__).parent / "load.py").read_bytes()
    client.check_output(f"echo {base64.b64encode(script).decode()} | base64 -d > /var/tmp/load.py")
    client.run("rm -f /var/tmp/load.stop /var/tmp/load.out; systemctl reset-failed stack-load.service")
    # 20 requests per second, for at most 6 minutes, until the deploy is over.
    client.check_output(
        f"systemd-run --unit stack-load --quiet python3 /var/tmp/load.py https://{LB}/ 20 360 "
        "/var/tmp/load.stop /var/tmp/load.out"
    )
    errors_before = int(lb.check_output(f"wc -l < {ERROR_LOG}"))
    time.sleep(3)
    rc, output = run_playbook("deploy.yml", "-e", "app_version=2.0")
    time.sleep(3)
    client.check_output("touch /var/tmp/load.stop")
    for _second in range(30):
        if client.file("/var/tmp/load.out").exists:
            break
        time.sleep(1)
    assert rc == 0, output
    lines = client.file("/var/tmp/load.out").content_string.splitlines()
    results = [[*line.split(" ", 2), "", ""][:3] for line in lines]
    failed = [line for line in lines if line.split(" ", 2)[1] != "200"]
    assert not failed, f"{len(failed)} of {len(lines)} requests failed: {failed[:5]}"
    assert len(lines) >= 200, f"only {len(lines)} requests were sent during the deploy"
    bodies = [result[2] for result in results]
    versions = {ANSWER.match(body).group("version") for body in bodies if ANSWER.match(body)}
    assert versions == {"1.0", "2.0"}, "the deploy did not happen while the load ran"
    # Drained before each restart, the balancer never even tried a server that was going away:
    # without the drain, retries would hide the errors from clients, but not from this log.
    errors = lb.check_output(f"tail -n +{errors_before + 1} {ERROR_LOG}")
    assert PROXY_ERROR not in errors, errors
    after = answers(client, 6)
    assert {a["version"] for a in after} == {"2.0"}
    assert {a["host"] for a in after} == {APP1, APP2}


def test_the_architecture_picture_shows_tiers_services_flows_and_certificates(tmp_path):
    rc, output = run_playbook("architecture.yml", "-e", f"architecture_output_dir={tmp_path}")
    assert rc == 0, output
    # Graphviz writes '-' as '&#45;': compare the text a reader sees.
    svg = html.unescape((tmp_path / "architecture.svg").read_text())
    assert (tmp_path / "architecture.png").stat().st_size > 1000
    # the database server is the zone's DNS server too (named), and every server of a tier resolves
    # through its own unbound
    for text in (LB, APP1, APP2, DB, WEB_UNIT, DATABASE, "demo", "named", "unbound"):
        assert text in svg, text
    for port in ("443", "8000", str(DB_PORT)):
        assert port in svg, port
    # the flow "dns" ends at the DNS server (a host of the database tier), not at a box of its group
    assert "dns: dns 53/tcp, 53/udp" in svg
    assert "group dnsservers" not in svg
    for certificate in ("www", "db"):
        assert certificate in svg
