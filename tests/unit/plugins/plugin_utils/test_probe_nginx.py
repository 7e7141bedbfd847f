# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx's probe (plugin_utils/_probes/nginx.py): run as the role's inspection runs it, on
this machine, and with a stand-in ``core`` for what this machine does not have."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    PROBE,
    build_command,
    parse_answer,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._role_action import probe_source

SOURCE = Path(__file__).resolve().parents[4] / "plugins" / "plugin_utils" / "_probes" / "nginx.py"


def host_probe():
    """The shared probe library, where the certificate facts of the web servers are."""
    namespace = {"__name__": "host_probe"}
    exec(compile(PROBE.read(), "host_probe", "exec"), namespace)  # noqa: S102
    return types.SimpleNamespace(**namespace)


def load():
    namespace = {"__name__": "probe_nginx"}
    exec(compile(SOURCE.read_text(), str(SOURCE), "exec"), namespace)  # noqa: S102
    return types.SimpleNamespace(**namespace)


def arguments(tmp_path, names=("shop",)):
    return {
        "names": list(names),
        "certificate_dir": str(tmp_path / "ssl"),
        "hook_dir": str(tmp_path / "hooks"),
        "consumer": "nginx",
        "placeholder": ".placeholder",
        "acme_specs_dir": str(tmp_path / "specs"),
        "renew_unit": "groundwork-test-none.service",
        "pid_file": str(tmp_path / "nginx.pid"),
    }


def test_the_probe_runs_in_the_shared_probe_library(tmp_path):
    (tmp_path / "hooks" / "shop.d").mkdir(parents=True)
    (tmp_path / "hooks" / "shop.d" / "nginx").write_text("#!/bin/sh\n")
    (tmp_path / "hooks" / "old.d").mkdir()
    (tmp_path / "hooks" / "old.d" / "nginx").write_text("#!/bin/sh\n")
    (tmp_path / "hooks" / "old.d" / "apache").write_text("#!/bin/sh\n")
    (tmp_path / "ssl" / "shop").mkdir(parents=True)
    (tmp_path / "ssl" / "shop" / ".placeholder").write_text("")
    request = {"probes": {"nginx": {"source": probe_source("nginx"), "args": arguments(tmp_path)}}}
    command = build_command(sys.executable, PROBE.read(), request)
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False)
    answer, error = parse_answer(done.returncode, done.stdout, done.stderr)
    assert error is None, error
    info = answer["probes"]["nginx"]
    assert set(info) == {
        "version",
        "cpus",
        "memory_kb",
        "nofile_limit",
        "ocsp",
        "resolvers",
        "raw_errors",
        "hooks",
        "acme_pending",
        "renew_service",
    }
    assert info["cpus"] >= 1 and info["memory_kb"] > 0 and info["nofile_limit"] > 0
    assert info["ocsp"] == {"shop": ""}  # no fullchain.pem
    assert info["hooks"] == [str(tmp_path / "hooks" / d / "nginx") for d in ("old.d", "shop.d")]
    assert info["acme_pending"] == ["shop"]  # a placeholder waits for its real certificate
    assert info["renew_service"] is False


class Done:
    def __init__(self, returncode=0, stdout="", stderr=""):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def core(runs=None, files=None, limits=None):
    """A stand-in for the probe library's helpers: programs answer from ``runs`` (by argv[0]
    and the last argument), files from ``files``, hard limits from ``limits``."""
    runs, files, limits = runs or {}, files or {}, limits or {}

    def run(argv):
        for key in (tuple(argv), argv[0]):
            if key in runs:
                return runs[key]
        return None

    return types.SimpleNamespace(
        run=run,
        read=files.get,
        hard_nofile=lambda pid: limits.get(str(pid)),
        cpus=lambda: 4,
        memory_kb=lambda: 4096 * 1024,
        resolvers=lambda: ["10.0.0.2"],
    )


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (Done(0, stderr="nginx version: nginx/1.26.3\n"), "1.26.3"),
        (Done(0, stderr="nginx version: nginx/1.22.1\n"), "1.22.1"),
        (Done(1, stderr="not found"), None),
        (None, None),
    ],
)
def test_version(done, expected):
    probe = load()
    assert probe.version(core(runs={"/usr/sbin/nginx": done} if done else {})) == expected


@pytest.mark.parametrize(
    ("pid", "limits", "expected"),
    [
        ("812\n", {"812": 8192, "1": 1048576}, 8192),  # the running master's
        ("", {"1": 1048576}, 524288),  # systemd's default for a service
        ("", {"1": 65536}, 65536),  # capped by systemd's own limit
        ("", {}, 524288),
        ("812", {"1": 4096}, 4096),  # the master's cannot be read
    ],
)
def test_open_file_limit(pid, limits, expected):
    probe = load()
    assert (
        probe.nofile_limit(core(files={"/run/nginx.pid": pid}, limits=limits), "/run/nginx.pid") == expected
    )


SAN = "X509v3 Subject Alternative Name: \n    DNS:shop.test, DNS:www.shop.test\n"


@pytest.mark.parametrize(
    ("placeholder", "spec", "san", "expected"),
    [
        (True, None, None, True),  # the self-signed placeholder of groundwork.server.tls
        (False, None, None, False),  # not an ACME certificate
        (False, {"domains": ["shop.test", "www.shop.test"]}, Done(0, SAN), False),
        (False, {"domains": ["shop.test", "WWW.shop.test"]}, Done(0, SAN), False),
        (False, {"domains": ["shop.test", "new.shop.test"]}, Done(0, SAN), True),  # a new name
        (False, {"domains": ["shop.test"]}, Done(1), True),  # no certificate yet
        (False, "not json", None, False),
    ],
)
def test_acme_pending(tmp_path, placeholder, spec, san, expected):
    args = arguments(tmp_path)
    (tmp_path / "ssl" / "shop").mkdir(parents=True)
    if placeholder:
        (tmp_path / "ssl" / "shop" / ".placeholder").write_text("")
    files = {}
    if spec is not None:
        files[str(tmp_path / "specs" / "shop.json")] = spec if isinstance(spec, str) else json.dumps(spec)
    runs = {"/usr/bin/openssl": san} if san else {}
    assert host_probe().acme_pending(core(runs=runs, files=files), args, "shop") is expected


def test_ocsp_uri_of_a_certificate(tmp_path):
    chain = tmp_path / "fullchain.pem"
    assert host_probe().ocsp_uri(core(), str(chain)) == ""  # absent
    chain.write_text("PEM")
    ocsp = core(runs={"/usr/bin/openssl": Done(0, "http://r3.o.lencr.org\n")})
    assert host_probe().ocsp_uri(ocsp, str(chain)) == "http://r3.o.lencr.org"
    assert host_probe().ocsp_uri(core(runs={"/usr/bin/openssl": Done(1)}), str(chain)) == ""


FAKE_NGINX = """#!/bin/sh
# nginx -t as far as these tests need: the configuration is the last argument; a directive
# 'bogus' is unknown; the scratch directory must exist while it runs.
conf="$(eval echo \\${$#})"
[ -d "$(dirname "$conf")" ] || exit 3
line=$(grep -n bogus "$conf" | head -n 1 | cut -d: -f1)
if [ -n "$line" ]; then
    echo "nginx: [emerg] unknown directive \\"bogus\\" in $conf:$line" >&2
    echo "nginx: configuration file $conf test failed" >&2
    exit 1
fi
exit 0
"""


def real_core():
    return types.SimpleNamespace(run=host_probe().run)


def test_raw_directives_are_checked_by_the_installed_nginx_in_a_scratch_directory(tmp_path, monkeypatch):
    fake = tmp_path / "nginx"
    fake.write_text(FAKE_NGINX)
    fake.chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    probe = load()
    probe.raw_errors.__globals__["NGINX"] = str(fake)
    args = {
        "raw": [
            {
                "where": "nginx_sites[0] (shop)",
                "key": "raw_nginx",
                "context": "server",
                "lines": ["expires 1h;"],
            },
            {
                "where": "nginx_sites[0] (shop)",
                "key": "locations[2].raw_nginx",
                "context": "location",
                "lines": ["expires 1h;", "bogus on;"],
            },
        ],
        "raw_stubs": ["upstream app { server 127.0.0.1:1; }"],
    }
    assert probe.raw_errors(args, real_core()) == [
        {
            "where": "nginx_sites[0] (shop)",
            "key": "locations[2].raw_nginx",
            "error": 'unknown directive "bogus" (line 2 of them)',
        }
    ]
    assert list(scratch.iterdir()) == []  # the scratch directory is removed


def test_raw_directives_without_nginx_or_without_raw(tmp_path):
    probe = load()
    probe.raw_errors.__globals__["NGINX"] = str(tmp_path / "missing")
    snippet = {"where": "w", "key": "raw_nginx", "context": "server", "lines": ["expires 1h;"]}
    assert probe.raw_errors({"raw": [snippet]}, real_core()) is None
    assert probe.raw_errors({}, real_core()) == []


def test_the_scratch_configuration_wraps_the_raw_lines_in_a_server_and_a_location(tmp_path):
    probe = load()
    text, first = probe.raw_config(
        "/scratch", {"context": "location", "lines": ["a 1;", "b 2;"]}, ["map x y {}"]
    )
    lines = text.splitlines()
    assert lines[0] == "include /etc/nginx/modules-enabled/*.conf;"
    assert lines[first - 1].strip() == "a 1;" and lines[first].strip() == "b 2;"
    assert lines[first - 2].strip() == "location / {"
    assert "    map x y {}" in lines and "pid /scratch/nginx.pid;" in lines
    assert text.count("{") == text.count("}")


def test_what_nginx_t_creates_for_the_raw_directives_is_removed_again(tmp_path):
    """nginx -t opens the logs and creates the temporary directories the directives name
    (seen with Debian 13's nginx 1.26.3): those that were not there before are removed."""
    probe = load()
    log, temp, kept = tmp_path / "new.log", tmp_path / "cache", tmp_path / "old.log"
    kept.write_text("")
    snippets = [{"lines": [f"access_log {log} main;", f"proxy_temp_path '{temp}';", f"error_log {kept};"]}]
    assert probe.named_paths(snippets) == sorted([str(log), str(temp), str(kept)])
    absent = [path for path in probe.named_paths(snippets) if not Path(path).exists()]
    log.write_text("")
    temp.mkdir()
    probe.remove_created(absent)
    assert not log.exists() and not temp.exists() and kept.exists()
