# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No secret in the output of the whole site.yml at the highest verbosity.

The scenario runs every step at -vvvv (ANSIBLE_VERBOSITY=4) into one log,
converge.log in the ephemeral directory (molecule.yml). The test checks that the log is the
converge's (the site playbook's plays, the first run's changes, the -vvvv detail), then
looks in it for every secret of the scenario, derived from the variables themselves: each
host's value of every variable of group_vars/ and host_vars/ (rendered by Ansible,
secrets.yml), of which every string under a key that names a secret (password, token,
secret, passphrase, private key), every private key's body in any value, the internal CA's
key on the controller and every host's TLS private key.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import EPHEMERAL, INVENTORY, PLATFORMS, state

SCENARIO = Path(__file__).resolve().parents[1]
LOG = Path(EPHEMERAL) / "converge.log"
SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token|passphrase|private_?key|api_?key|credential)")
PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----(?P<body>.*?)-----END", re.S)
PRIVATE_KEY_MARK = re.compile(r"-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY")
# The shortest secret worth looking for: shorter strings occur everywhere by chance.
SHORTEST = 6


def variable_names():
    """The names of every variable the scenario defines (group_vars/ and host_vars/)."""
    names = set()
    for path in sorted([*SCENARIO.glob("group_vars/*.yml"), *SCENARIO.glob("host_vars/*.yml")]):
        names.update((yaml.safe_load(path.read_text()) or {}).keys())
    return sorted(names)


def rendered_variables():
    """{host: {name: value}}: what the converge rendered, from secrets.yml."""
    with tempfile.TemporaryDirectory(prefix="gw-baseline-secrets-") as out:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("ANSIBLE_LOG_PATH", "ANSIBLE_VERBOSITY")
        }
        result = subprocess.run(
            [
                "ansible-playbook",
                "-i",
                str(Path(INVENTORY).parent),
                str(SCENARIO / "secrets.yml"),
                "-e",
                json.dumps({"baseline_names": variable_names(), "baseline_out": out}),
            ],
            capture_output=True,
            text=True,
            check=False,
            env=env | {"ANSIBLE_NOCOLOR": "1"},
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return {path.stem: json.loads(path.read_text()) for path in Path(out).glob("*.json")}


def pem_bodies(text):
    """The base64 of every PEM block in text, each joined into one line."""
    return ["".join(body.split()) for body in re.findall(r"-----BEGIN [^-]+-----(.*?)-----END", text, re.S)]


def key_lines(text, public=""):
    """The base64 lines of every private key in text: each one found in a log is a leak.

    A line that also occurs in `public` (the PEM text of the certificates and public keys
    that go with the keys) is left out: the tail of an EC key is its public point, which a
    certificate or public key may encode in the very same characters.
    """
    published = pem_bodies(public)
    return [
        line.strip()
        for match in PRIVATE_KEY.finditer(text)
        for line in match.group("body").splitlines()
        if len(line.strip()) >= 16 and ":" not in line and not any(line.strip() in body for body in published)
    ]


def secrets_in(value, secret=False):
    """The secret strings of a variable's value: strings under a secret's key, private keys."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from secrets_in(item, secret or bool(SECRET_KEY.search(str(key))))
    elif isinstance(value, list):
        for item in value:
            yield from secrets_in(item, secret)
    elif isinstance(value, str):
        yield from key_lines(value)
        if secret and len(value) >= SHORTEST and not value.startswith("/"):
            yield value


@pytest.fixture(scope="module")
def log():
    assert LOG.is_file(), f"{LOG} does not exist: molecule.yml sets ANSIBLE_LOG_PATH for every step"
    return LOG.read_text(errors="replace")


@pytest.fixture(scope="module")
def secrets():
    found = {}
    for host, variables in rendered_variables().items():
        for name, value in variables.items():
            for secret in secrets_in(value, bool(SECRET_KEY.search(name))):
                found.setdefault(secret, set()).add(f"{host}: {name}")
    # The internal CA's key on the controller, every host's TLS private keys (without what
    # their certificates and public keys publish).
    ca = Path(EPHEMERAL, "ca")
    for path in ca.glob("*.key"):
        public = subprocess.run(
            ["openssl", "pkey", "-in", str(path), "-pubout"], capture_output=True, text=True, check=True
        ).stdout
        public += "".join(cert.read_text() for cert in ca.glob("*.crt"))
        for line in key_lines(path.read_text(errors="replace"), public):
            found.setdefault(line, set()).add(f"controller: {path}")
    for name in PLATFORMS:
        keys = state(name).out("cat /etc/ssl/groundwork/*/privkey.pem 2>/dev/null || true")
        public = state(name).out(
            "for dir in /etc/ssl/groundwork/*/; do [ -f $dir/privkey.pem ] || continue;"
            " openssl pkey -in $dir/privkey.pem -pubout; cat $dir/cert.pem $dir/chain.pem 2>/dev/null; done"
        )
        for line in key_lines(keys, public):
            found.setdefault(line, set()).add(f"{name}: a TLS private key")
    return found


def test_log_is_the_verbose_converge(log):
    """The log holds the whole site playbook at -vvvv, including the first run that changed things."""
    assert len(log) > 2_000_000, f"{LOG} has only {len(log)} characters"
    for play in (
        "Decide on every server at once",
        "Configure the base of every server",
        "Issue the certificates of every server",
        "Configure the servers of the tier that change",
    ):
        assert f"PLAY [{play}" in log, f"the converge's play {play!r} is not in {LOG}"
    # -vvvv: the connection plugin's and the module transfer's detail.
    assert re.search(r"(ESTABLISH|EXEC|PUT) ", log), "no -vvv connection detail in the log"
    assert "Loading collection" in log or "task path:" in log, "no -vvvv detail in the log"
    # The first run: the recap of a run that changed every host of the stack.
    changed = {
        host: int(count)
        for host, count in re.findall(r"\| (bl-[a-z0-9]+)\s+: ok=\d+\s+changed=(\d+)", log)
        if int(count) > 0
    }
    assert set(changed) >= set(PLATFORMS) - {"bl-client"}, f"no first, changing run in the log: {changed}"


def test_secrets_are_found_in_the_variables(secrets):
    """The search has something to find: the database passwords, the CA's and the hosts' keys."""
    sources = " ".join(" ".join(sorted(where)) for where in secrets.values())
    assert "postgresql_roles" in sources, secrets.values()
    assert "mariadb_users" in sources, secrets.values()
    assert "app_database" in sources, secrets.values()
    assert "controller:" in sources, "the internal CA's key was not read"
    assert any(name in sources for name in PLATFORMS), "no host's TLS key was read"


def test_no_secret_in_the_converge_log(log, secrets):
    leaked = sorted({source for secret, where in secrets.items() if secret in log for source in where})
    assert not leaked, f"secrets in {LOG}: {leaked}"


def test_no_private_key_in_the_converge_log(log):
    marks = [line[:160] for line in log.splitlines() if PRIVATE_KEY_MARK.search(line)]
    assert not marks, f"private key headers in {LOG}: {marks[:5]}"
