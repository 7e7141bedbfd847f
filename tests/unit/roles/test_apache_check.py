# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/apache/files/check.py, the check of a candidate configuration before it goes live:
imported from its path, with a configuration directory made in a temporary directory, real
keys and certificates made by openssl, and real listening sockets of this process."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import types
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[3] / "roles" / "apache" / "files" / "check.py"
OPENSSL = "/usr/bin/openssl"
needs_openssl = pytest.mark.skipif(not os.path.exists(OPENSSL), reason="check.py runs /usr/bin/openssl")


def load():
    spec = importlib.util.spec_from_file_location("groundwork_apache_check", PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def check(tmp_path, monkeypatch):
    """The program, with /etc/apache2 in a temporary directory."""
    module = load()
    apache_dir = tmp_path / "apache2"
    for sub in ("sites-enabled", "conf-enabled"):
        (apache_dir / sub).mkdir(parents=True)
    monkeypatch.setattr(module, "APACHE_DIR", str(apache_dir))
    module.dir = apache_dir
    return module


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Two real key pairs with a certificate each: {name: (certificate, key)}."""
    if not os.path.exists(OPENSSL):
        pytest.skip("check.py runs /usr/bin/openssl")
    directory = tmp_path_factory.mktemp("pki")
    made = {}
    for name in ("shop", "api"):
        key, cert = directory / f"{name}.key", directory / f"{name}.pem"
        subprocess.run(
            [
                OPENSSL,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                f"/CN={name}.test",
                "-days",
                "1",
            ],
            check=True,
            capture_output=True,
        )
        made[name] = (str(cert), str(key))
    return made


def vhost(port, certificate, key, quote=False):
    q = '"' if quote else ""
    return (
        f"<VirtualHost *:{port}>\n"
        f"    SSLEngine on\n"
        f"    SSLCertificateFile {q}{certificate}{q}\n"
        f"    SSLCertificateKeyFile {q}{key}{q}\n"
        f"</VirtualHost>\n"
    )


# --- certificates -------------------------------------------------------------------------


@needs_openssl
def test_matching_pairs_pass(check, pairs):
    (check.dir / "sites-enabled" / "shop.conf").write_text(
        vhost(443, *pairs["shop"]) + vhost(8443, *pairs["api"], quote=True)
    )
    (check.dir / "conf-enabled" / "groundwork.conf").write_text(vhost(443, *pairs["api"]))
    assert check.certificate_problems() == []


@needs_openssl
def test_a_certificate_that_does_not_match_its_key_is_named_with_the_key(check, pairs):
    site = check.dir / "sites-enabled" / "shop.conf"
    site.write_text(vhost(443, *pairs["shop"]) + vhost(8443, pairs["api"][0], pairs["shop"][1]))
    assert check.certificate_problems() == [
        f"{site}: the certificate {pairs['api'][0]} does not match the private key {pairs['shop'][1]}"
    ]


@needs_openssl
def test_missing_files_cannot_be_read(check, pairs, tmp_path):
    site = check.dir / "sites-enabled" / "shop.conf"
    site.write_text(
        vhost(443, str(tmp_path / "nosuch.pem"), pairs["shop"][1])
        + vhost(8443, pairs["shop"][0], str(tmp_path / "nosuch.key"))
    )
    assert check.certificate_problems() == [
        f"{site}: the certificate {tmp_path / 'nosuch.pem'} cannot be read",
        f"{site}: the private key {tmp_path / 'nosuch.key'} cannot be read",
    ]


class Done:
    def __init__(self, returncode=0, stdout="", stderr=""):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def test_the_pairs_of_a_file(check, monkeypatch):
    """Each certificate goes with the key of its virtual host, whatever their order; comments,
    chain files and other directives are not pairs."""
    (check.dir / "sites-enabled" / "a.conf").write_text(
        "<VirtualHost *:443>\n"
        "  # SSLCertificateFile /commented.pem\n"
        "  SSLCertificateChainFile /chain.pem\n"
        '  SSLCertificateFile "/a.pem"\n'
        "  sslcertificatekeyfile /a.key\n"
        "</VirtualHost>\n"
        "<VirtualHost *:8443>\n"
        "\tSSLCertificateKeyFile /b.key\n"
        "\tSSLCertificateFile /b.pem\n"
        "</VirtualHost>\n"
    )
    (check.dir / "sites-enabled" / "a.conf.disabled").write_text(vhost(1, "/x.pem", "/x.key"))
    (check.dir / "conf-enabled" / "z.conf").write_text(vhost(443, "/z.pem", "/z.key"))
    asked = []

    def run(argv):
        asked.append(argv[-1])
        return Done(0, "KEY of " + argv[-1].rsplit(".", 1)[0] + "\n")

    monkeypatch.setattr(check, "run", run)
    assert check.certificate_problems() == []
    assert asked == ["/a.pem", "/a.key", "/b.pem", "/b.key", "/z.pem", "/z.key"]


def test_openssl_is_asked_for_the_public_keys(check, monkeypatch):
    (check.dir / "sites-enabled" / "a.conf").write_text(vhost(443, "/a.pem", "/a.key"))
    calls = []

    def run(argv):
        calls.append(argv)
        return Done(0, "PUBLIC KEY\n" if argv[1] == "x509" else "OTHER KEY\n")

    monkeypatch.setattr(check, "run", run)
    assert check.certificate_problems() == [
        f"{check.dir}/sites-enabled/a.conf: the certificate /a.pem does not match the private key /a.key"
    ]
    assert calls == [
        ["/usr/bin/openssl", "x509", "-noout", "-pubkey", "-in", "/a.pem"],
        ["/usr/bin/openssl", "pkey", "-pubout", "-in", "/a.key"],
    ]


# --- Apache's own test ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (Done(0, "", "Syntax OK\n"), []),
        (
            Done(
                1,
                "",
                "AH00526: Syntax error on line 3 of /etc/apache2/sites-enabled/a.conf:\n\nInvalid command\n",
            ),
            ["AH00526: Syntax error on line 3 of /etc/apache2/sites-enabled/a.conf:", "Invalid command"],
        ),
        (Done(1, "", ""), ["apache2ctl -t failed"]),
    ],
)
def test_configuration_test(check, monkeypatch, done, expected):
    calls = []
    monkeypatch.setattr(check, "run", lambda argv: calls.append(argv) or done)
    assert check.configuration_test() == expected
    assert calls == [["/usr/sbin/apache2ctl", "-t"]]


@pytest.mark.parametrize(
    ("syntax", "certificates", "ports", "code", "printed"),
    [
        ([], [], [], 0, ""),
        (["bad syntax"], ["never asked"], ["never asked"], 1, "bad syntax\n"),
        ([], ["cert problem"], ["port problem"], 1, "cert problem\nport problem\n"),
    ],
)
def test_main(check, monkeypatch, capsys, syntax, certificates, ports, code, printed):
    monkeypatch.setattr(check, "configuration_test", lambda: syntax)
    monkeypatch.setattr(check, "certificate_problems", lambda: certificates)
    monkeypatch.setattr(check, "port_problems", lambda: ports)
    assert check.main() == code
    assert capsys.readouterr().err == printed


# --- ports ----------------------------------------------------------------------------------


TCP = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0\n"
    "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 2222 1 0\n"
    "   2: 0100007F:C350 0100007F:0050 01 00000000:00000000 00:00000000 00000000  1000        0 3333 1 0\n"
)
TCP6 = (
    "  sl  local_address                         remote_address                        st tx_queue\n"
    "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A"
    " 00000000:00000000 00:00000000 00000000     0        0 4444 1 0\n"
)


def test_listening_reads_the_listening_tcp_sockets(check, monkeypatch):
    tables = {"/proc/net/tcp": TCP, "/proc/net/tcp6": TCP6}

    class Handle:
        def __init__(self, text):
            self.text = text

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return self.text

    def opener(path, *args, **kwargs):
        if path not in tables:
            raise FileNotFoundError(path)
        return Handle(tables[path])

    monkeypatch.setattr(check, "open", opener, raising=False)
    # 80 twice (IPv4 and IPv6), 8080 on the loopback; the established connection is not listening
    assert check.listening() == {80: {"1111", "4444"}, 8080: {"2222"}}
    tables.pop("/proc/net/tcp6")
    assert check.listening() == {80: {"1111"}, 8080: {"2222"}}


def test_ports_used_by_another_program_are_problems(check, monkeypatch):
    (check.dir / "ports.conf").write_text(
        "# Listen 9999\nListen 80\nListen 443 https\n  listen [::1]:8443\nListen 10.0.0.1:8080\n"
    )
    (check.dir / "conf-enabled" / "extra.conf").write_text("Listen 127.0.0.1:8081\n")
    (check.dir / "sites-enabled" / "site.conf").write_text("Listen 9090\n")  # not where Listen goes
    taken = {80: {"1"}, 443: {"2"}, 8443: {"3"}, 8081: {"4"}, 9090: {"5"}, 22: {"6"}}
    holders = {
        "1": {"apache2"},
        "2": {"nginx"},
        "3": {"apache2", "haproxy"},
        "4": set(),
        "5": {"x"},
        "6": {"sshd"},
    }
    monkeypatch.setattr(check, "listening", lambda: taken)
    monkeypatch.setattr(check, "owners", lambda inodes: set().union(*(holders[i] for i in inodes)))
    assert check.port_problems() == [
        "port 443 is already in use by nginx",
        "port 8443 is already in use by haproxy",
    ]


def test_without_ports_conf_there_is_nothing_to_check(check, monkeypatch):
    monkeypatch.setattr(check, "listening", lambda: {80: {"1"}})
    monkeypatch.setattr(check, "owners", lambda inodes: {"nginx"})
    assert check.port_problems() == []


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc")
def test_a_port_this_process_listens_on_is_found(check):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        inode = str(os.fstat(server.fileno()).st_ino)
        assert inode in check.listening()[port]
    assert check.owners({"0"}) == set()


def fake_proc(monkeypatch, check, processes):
    """/proc as owners() reads it: {pid: (comm, {fd: link or None (closed meanwhile)})}."""

    def readlink(path):
        pid, _fd_dir, fd = path.split("/")[2:5]
        link = processes[pid][1][fd]
        if link is None:
            raise FileNotFoundError(path)
        return link

    class Comm:
        def __init__(self, text):
            self.text = text

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return self.text

    # stand-ins for the modules check.py uses, not the real ones patched
    monkeypatch.setattr(
        check, "glob", types.SimpleNamespace(glob=lambda pattern: [f"/proc/{pid}/fd" for pid in processes])
    )
    monkeypatch.setattr(
        check,
        "os",
        types.SimpleNamespace(
            path=os.path, listdir=lambda path: list(processes[path.split("/")[2]][1]), readlink=readlink
        ),
    )
    monkeypatch.setattr(
        check, "open", lambda path, *a, **k: Comm(processes[path.split("/")[2]][0] + "\n"), raising=False
    )


def test_owners_are_the_processes_holding_the_sockets(check, monkeypatch):
    fake_proc(
        monkeypatch,
        check,
        {
            "10": ("nginx", {"0": "/dev/null", "6": "socket:[555]"}),
            "11": ("apache2", {"3": "socket:[777]"}),
            "12": ("sshd", {"3": "socket:[999]"}),
        },
    )
    assert check.owners({"555", "777"}) == {"nginx", "apache2"}
    assert check.owners({"123"}) == set()


def test_a_descriptor_closed_while_reading_does_not_hide_the_process(check, monkeypatch):
    fake_proc(monkeypatch, check, {"10": ("nginx", {"5": None, "6": "socket:[555]", "7": None})})
    assert check.owners({"555"}) == {"nginx"}


def test_the_check_is_a_program_of_the_standard_library_only():
    source = PROGRAM.read_text()
    # run by /usr/bin/python3: no shebang, not executable
    assert not source.startswith("#!")
    imported = {
        line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))
    }
    assert imported <= {"glob", "os", "re", "subprocess", "sys"}
