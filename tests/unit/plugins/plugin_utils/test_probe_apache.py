# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apache's probe (plugin_utils/_probes/apache.py): run as the role's inspection runs it, on
this machine (no Apache here), with mods-available and mods-enabled made in a temporary
directory, and with a stand-in ``core`` for the version."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import PROBE
from ansible_collections.groundwork.server.tests.unit.probe_runner import run_role_probe

SOURCE = Path(__file__).resolve().parents[4] / "plugins" / "plugin_utils" / "_probes" / "apache.py"


def load():
    namespace = {"__name__": "probe_apache"}
    exec(compile(SOURCE.read_text(), str(SOURCE), "exec"), namespace)  # noqa: S102
    return types.SimpleNamespace(**namespace)


def arguments(tmp_path, names=("shop",), **changes):
    args = {
        "names": list(names),
        "certificate_dir": str(tmp_path / "ssl"),
        "hook_dir": str(tmp_path / "hooks"),
        "consumer": "apache",
        "placeholder": ".placeholder",
        "acme_specs_dir": str(tmp_path / "specs"),
        "renew_unit": "groundwork-test-none.service",
        "mods_available": str(tmp_path / "mods-available"),
        "mods_enabled": str(tmp_path / "mods-enabled"),
    }
    args.update(changes)
    return args


def debian_mods(tmp_path):
    """A small mods-available and mods-enabled as Debian lays them out."""
    available = tmp_path / "mods-available"
    available.mkdir()
    files = {
        "proxy.load": "LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\n",
        "proxy.conf": "<IfModule mod_proxy.c>\n</IfModule>\n",
        "proxy_balancer.load": (
            "# Depends: proxy alias slotmem_shm\n"
            "LoadModule proxy_balancer_module /usr/lib/apache2/modules/mod_proxy_balancer.so\n"
        ),
        "proxy_balancer.conf": "",
        "lbmethod_byrequests.load": (
            "# Depends: proxy_balancer\n"
            "LoadModule lbmethod_byrequests_module /usr/lib/apache2/modules/mod_lbmethod_byrequests.so\n"
        ),
        "ssl.load": (
            "# Depends: setenvif mime socache_shmcb\n"
            "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n"
        ),
        "ssl.conf": "SSLRandomSeed startup builtin\n",
        "expires.load": "LoadModule expires_module /usr/lib/apache2/modules/mod_expires.so\n",
        # a .conf without a .load is not a module
        "orphan.conf": "# nothing\n",
        # not Debian's files
        "README": "# Depends: nothing\n",
        "notes.load.bak": "",
    }
    for name, text in files.items():
        (available / name).write_text(text)
    enabled = tmp_path / "mods-enabled"
    enabled.mkdir()
    (enabled / "proxy.load").symlink_to("../mods-available/proxy.load")
    (enabled / "ssl.conf").symlink_to("/etc/apache2/mods-available/ssl.conf")
    (enabled / "dangling.load").symlink_to("../mods-available/nosuch.load")
    (enabled / "local.conf").write_text("# a file, not a link\n")
    return available, enabled


def test_on_a_host_without_apache_the_probe_answers_nothing_installed(tmp_path):
    info = run_role_probe("apache", arguments(tmp_path))
    assert set(info) == {
        "version",
        "cpus",
        "memory_kb",
        "modules",
        "enabled",
        "raw_errors",
        "ocsp",
        "hooks",
        "acme_pending",
        "renew_service",
    }
    if not os.path.exists("/usr/sbin/apache2"):
        assert info["version"] is None
    assert info["modules"] is None  # mods-available does not exist
    assert info["enabled"] == {}
    assert info["cpus"] >= 1 and info["memory_kb"] > 0
    assert info["ocsp"] == {"shop": ""}
    assert info["hooks"] == []
    assert info["renew_service"] is False


def test_the_probe_reads_mods_available_and_mods_enabled(tmp_path):
    debian_mods(tmp_path)
    (tmp_path / "hooks" / "shop.d").mkdir(parents=True)
    (tmp_path / "hooks" / "shop.d" / "apache").write_text("#!/bin/sh\n")
    (tmp_path / "hooks" / "shop.d" / "nginx").write_text("#!/bin/sh\n")
    (tmp_path / "ssl" / "shop").mkdir(parents=True)
    (tmp_path / "ssl" / "shop" / ".placeholder").write_text("")
    info = run_role_probe("apache", arguments(tmp_path))
    assert info["modules"] == {
        "expires": {"depends": [], "conf": False},
        "lbmethod_byrequests": {"depends": ["proxy_balancer"], "conf": False},
        "proxy": {"depends": [], "conf": True},
        "proxy_balancer": {"depends": ["proxy", "alias", "slotmem_shm"], "conf": True},
        "ssl": {"depends": ["setenvif", "mime", "socache_shmcb"], "conf": True},
    }
    assert info["enabled"] == {
        "dangling.load": "../mods-available/nosuch.load",
        "local.conf": None,
        "proxy.load": "../mods-available/proxy.load",
        "ssl.conf": "/etc/apache2/mods-available/ssl.conf",
    }
    # the certificate facts of the shared probe library, for Apache's hooks
    assert info["hooks"] == [str(tmp_path / "hooks" / "shop.d" / "apache")]
    assert info["acme_pending"] == ["shop"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"# Depends: proxy\nLoadModule a_module x.so\n", ["proxy"]),
        (b"# Depends:   proxy   alias\n", ["proxy", "alias"]),
        (b"# Depends:\n", []),
        (b"#Depends: proxy\n", []),  # not Debian's form
        (b"LoadModule a_module x.so\n# Depends: late\n", ["late"]),
        (b"", []),
        (b"# \xff not UTF-8\n# Depends: x\n", ["x"]),
    ],
)
def test_depends_lines(tmp_path, text, expected):
    (tmp_path / "a.load").write_bytes(text)
    assert load().modules(str(tmp_path)) == {"a": {"depends": expected, "conf": False}}


def test_an_unreadable_load_file_is_left_out(tmp_path):
    (tmp_path / "a.load").mkdir()  # open() fails
    (tmp_path / "b.load").write_text("")
    assert load().modules(str(tmp_path)) == {"b": {"depends": [], "conf": False}}


def test_missing_directories(tmp_path):
    probe = load()
    assert probe.modules(str(tmp_path / "nosuch")) is None
    assert probe.enabled(str(tmp_path / "nosuch")) == {}
    assert probe.modules(str(tmp_path)) == {}


class Done:
    def __init__(self, returncode=0, stdout="", stderr=""):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (Done(0, "Server version: Apache/2.4.62 (Debian)\nServer built:   2024-07-20\n"), "2.4.62"),
        (Done(0, "Server version: Apache/2.4.65 (Debian)\n"), "2.4.65"),
        (Done(0, "something else\n"), None),
        (Done(0, ""), None),
        (Done(1, "", "not found"), None),
        (None, None),
    ],
)
def test_version(done, expected):
    core = types.SimpleNamespace(run=lambda argv: done if argv == ["/usr/sbin/apache2", "-v"] else None)
    assert load().version(core) == expected


def test_the_default_directories_are_debians(tmp_path, monkeypatch):
    probe = load()
    seen = []
    core = types.SimpleNamespace(
        run=lambda argv: None,
        cpus=lambda: 2,
        memory_kb=lambda: 1024,
        certificate_facts=lambda args: {"ocsp": {}},
    )
    monkeypatch.setitem(probe.modules.__globals__, "modules", seen.append)
    monkeypatch.setitem(probe.enabled.__globals__, "enabled", lambda d: seen.append(d) or {})
    answer = probe.inspect({}, core)
    assert seen == ["/etc/apache2/mods-available", "/etc/apache2/mods-enabled"]
    assert answer["cpus"] == 2 and answer["memory_kb"] == 1024 and answer["ocsp"] == {}


FAKE_APACHE = """#!/bin/sh
# apache2 -t as far as these tests need: -f CONF is last; a directive 'Bogus' is unknown; the
# variables of envvars are set; the scratch directory exists while it runs.
conf="$(eval echo \\${$#})"
[ -d "$(dirname "$conf")" ] && [ "$APACHE_RUN_USER" = "www-data" ] || exit 3
line=$(grep -n Bogus "$conf" | head -n 1 | cut -d: -f1)
if [ -n "$line" ]; then
    echo "AH00526: Syntax error on line $line of $conf:" >&2
    printf '%s%s\\n' "Invalid command 'Bogus', perhaps misspelled or defined by a module not included" \\
        " in the server configuration" >&2
    exit 1
fi
echo "Syntax OK" >&2
"""


def test_raw_directives_are_checked_by_the_installed_apache_in_a_scratch_directory(tmp_path, monkeypatch):
    debian_mods(tmp_path)
    fake = tmp_path / "apache2"
    fake.write_text(FAKE_APACHE)
    fake.chmod(0o755)
    envvars = tmp_path / "envvars"
    envvars.write_text("export APACHE_RUN_USER=www-data\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    probe = load()
    probe.raw_errors.__globals__.update(APACHE=str(fake), ENVVARS=str(envvars))
    namespace = {"__name__": "host_probe"}
    exec(compile(PROBE.read(), "host_probe", "exec"), namespace)  # noqa: S102
    core = types.SimpleNamespace(run=namespace["run"])
    args = arguments(
        tmp_path,
        raw=[
            {
                "where": "apache_sites[0] (shop)",
                "key": "raw_apache",
                "context": "server",
                "lines": ["KeepAlive On"],
            },
            {
                "where": "apache_sites[0] (shop)",
                "key": "locations[1].raw_apache",
                "context": "location",
                "lines": ["Header set A b", "Bogus on"],
            },
        ],
        raw_modules=["lbmethod_byrequests"],
    )
    assert probe.raw_errors(args, core) == [
        {
            "where": "apache_sites[0] (shop)",
            "key": "locations[1].raw_apache",
            "error": "Invalid command 'Bogus', perhaps misspelled or defined by a module not included in the"
            " server configuration (line 2 of them)",
        }
    ]
    assert list(scratch.iterdir()) == []  # the scratch directory is removed


def test_the_scratch_configuration_loads_the_modules_after_their_dependencies(tmp_path):
    debian_mods(tmp_path)
    probe = load()
    available = probe.modules(str(tmp_path / "mods-available"))
    order = probe.load_order(["lbmethod_byrequests", "nosuch"], available)
    assert order.index("proxy") < order.index("proxy_balancer") < order.index("lbmethod_byrequests")
    assert "nosuch" not in order
    text, first = probe.raw_config("/scratch", {"context": "location", "lines": ["A 1", "B 2"]}, order, "/m")
    lines = text.splitlines()
    assert lines[first - 1].strip() == "A 1" and lines[first].strip() == "B 2"
    assert lines[first - 2].strip() == '<LocationMatch "^/">'
    assert 'Include "/m/proxy.load"' in lines and 'PidFile "/scratch/apache2.pid"' in lines


def test_raw_directives_without_apache(tmp_path):
    probe = load()
    probe.raw_errors.__globals__["APACHE"] = str(tmp_path / "missing")
    snippet = {"where": "w", "key": "raw_apache", "context": "server", "lines": ["KeepAlive On"]}
    assert probe.raw_errors(arguments(tmp_path, raw=[snippet]), None) is None
    assert probe.raw_errors(arguments(tmp_path), None) == []
