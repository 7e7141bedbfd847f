# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nftables_table logic, every path, against a fake host that imitates nft and systemd."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._nftables import core
from ansible_collections.groundwork.server.plugins.module_utils._nftables.core import (
    NftablesError,
    Paths,
    TableSpec,
    absent,
    candidate_text,
    check_body,
    confirmed,
    paths_for,
    persist_text,
    present,
    readable,
    rollback_script,
    unit_text,
    validate,
)
from ansible_collections.groundwork.server.plugins.module_utils._nftables.host import LocalHost

NFT = "/usr/sbin/nft"
CANDIDATE = "/tmp/gw-nft-candidate.nft"
DOCKER_NAT = (
    "table ip nat {\n\tchain DOCKER_OUTPUT {\n\t\tip daddr 127.0.0.11 udp dport 53 counter packets 4 "
    'bytes 262 xt target "DNAT"\n\t}\n}\n'
)
BODY = """chain input {
  type filter hook input priority filter; policy drop;
  iif lo accept
  ct state established,related accept
  tcp dport 22 ct state new limit rate 10/minute burst 5 packets accept
}"""
BODY2 = BODY.replace("tcp dport 22", "tcp dport { 22, 443 }")
P = paths_for(TableSpec())


def render(family: str, name: str, body: list[str]) -> str:
    """The fake nft's listing: tab-indented by depth, default burst dropped (as nft 1.0.6)."""
    lines, depth = [f"table {family} {name} {{"], 1
    for raw in body:
        line = raw.strip().replace(" burst 5 packets", "")
        if not line or line.startswith("#"):
            continue
        if line.startswith("}"):
            depth -= 1
        lines.append("\t" * depth + line)
        if line.endswith("{"):
            depth += 1
    return "\n".join([*lines, "}"]) + "\n"


class FakeHost:
    """Files in memory, nft's tables in memory, a transient timer that fires on demand."""

    nft = NFT

    def __init__(self, tables=None, unshare=True):
        self.files: dict[str, str] = {}
        self.modes: dict[str, int] = {}
        self.tables = {"ip nat": DOCKER_NAT, **(tables or {})}
        self.unshare = unshare
        self.timer: str | None = None  # the rollback script the armed timer runs
        self.firing: str | None = None  # the rollback script running right now
        self.enabled: set[str] = set()
        self.commands: list[list[str]] = []
        self.fail: dict[str, tuple[int, str, str]] = {}
        self.mono = 0.0
        self.wall = 1_700_000_000.0
        self.next_id = 0

    # --- clock, ids, files ------------------------------------------------------------
    def clock(self):
        return self.mono

    def sleep(self, seconds):
        self.mono += seconds
        if self.firing:  # a rollback that runs now finishes while we wait
            script, self.firing = self.firing, None
            self.execute_rollback(script)

    def now(self):
        return self.wall

    def new_id(self):
        self.next_id += 1
        return f"id{self.next_id:04d}"

    def read(self, path):
        return self.files.get(path)

    def write(self, path, text, mode, dir_mode=0o755):
        self.files[path] = text
        self.modes[path] = mode

    def remove(self, path):
        self.files.pop(path, None)

    @contextlib.contextmanager
    def temporary(self, text):
        self.files[CANDIDATE] = text
        try:
            yield CANDIDATE
        finally:
            self.files.pop(CANDIDATE, None)

    # --- nft --------------------------------------------------------------------------
    def load(self, text: str, path: str, netns: bool = False) -> tuple[int, str, str]:
        """Apply an nft file of the module's form: all or nothing."""
        lines = text.splitlines()
        for index, line in enumerate(lines, 1):
            if "bogus" in line:
                col = line.index("bogus") + 1
                return 1, "", f"{path}:{index}:{col}-{col + 4}: Error: syntax error, unexpected bogus\n"
            if netns and re.search(r"\biif (?!lo\b)", line):
                return 1, "", f'{path}:{index}:1-3: Error: Interface does not exist: "eth9"\n'
        tables = {}
        for index, line in enumerate(lines):
            match = re.match(r"^table (\w+) ([\w-]+) \{$", line)
            if match:
                tables[f"{match[1]} {match[2]}"] = render(match[1], match[2], lines[index + 1 : -1])
        for line in lines:
            match = re.match(r"^delete table (\w+ [\w-]+)$", line)
            if match and not netns:
                self.tables.pop(match[1], None)
        if not netns:
            self.tables.update(tables)
        return 0, "".join(tables.values()), ""

    def run_nft(self, argv):
        if argv[1:3] == ["list", "table"]:
            key = f"{argv[3]} {argv[4]}"
            if "list" in self.fail:
                return self.fail["list"]
            if key in self.tables:
                return 0, self.tables[key], "# Warning: table ip nat is managed by iptables-nft\n"
            return 1, "", f"Error: No such file or directory\nlist table {key}\n"
        if argv[1:3] == ["-c", "-f"]:
            if "check" in self.fail:
                return self.fail["check"]
            saved = dict(self.tables)
            result = self.load(self.files[argv[3]], argv[3])
            self.tables = saved
            return result
        if argv[1] == "-f":
            if "apply" in self.fail and argv[2] == CANDIDATE:
                return self.fail["apply"]
            if "restore" in self.fail and argv[2] != CANDIDATE:
                return self.fail["restore"]
            return self.load(self.files[argv[2]], argv[2])
        if argv[1:3] == ["delete", "table"]:
            if "delete" in self.fail:
                return self.fail["delete"]
            self.tables.pop(f"{argv[3]} {argv[4]}", None)
            return 0, "", ""
        raise AssertionError(f"unexpected nft call {argv}")

    # --- systemd ----------------------------------------------------------------------
    def run_systemctl(self, argv):
        verb, units = argv[1], argv[2:]
        if verb == "show":
            unit = units[-1]
            if self.firing:
                return 0, "ActiveState=active\nSubState=running\n", ""
            if unit.endswith(".timer") and self.timer is not None:
                return 0, "ActiveState=active\nSubState=waiting\n", ""
            return 0, "ActiveState=inactive\nSubState=dead\n", ""
        if verb == "stop":
            if any(u.endswith(".timer") for u in units):
                self.timer = None
            return (0, "", "") if self.timer is None else (5, "", "Unit not loaded.")
        if verb in ("reset-failed", "daemon-reload"):
            return 0, "", ""
        if verb == "is-enabled":
            return (0, "enabled\n", "") if units[0] in self.enabled else (1, "disabled\n", "")
        if verb == "enable":
            if "enable" in self.fail:
                return self.fail["enable"]
            self.enabled.add(units[0])
            return 0, "", ""
        if verb == "disable":
            self.enabled.discard(units[0])
            return 0, "", ""
        raise AssertionError(f"unexpected systemctl call {argv}")

    def run(self, argv):
        argv = list(argv)
        self.commands.append(argv)
        if argv[0] == NFT:
            return self.run_nft(argv)
        if argv[0] == "systemctl":
            return self.run_systemctl(argv)
        if argv[0] == "unshare":
            if not self.unshare:
                return 1, "", "unshare: unshare failed: Operation not permitted\n"
            if argv[2] == "true":
                return 0, "", ""
            assert argv[2:5] == [core.SH, "-c", '"$1" -f "$2" && "$1" list table "$3" "$4"']
            _sh, nft, cand, family, name = argv[5:]
            assert nft == NFT
            rc, out, err = self.load(self.files[cand], cand, netns=True)
            return (rc, out, err) if rc else (0, render_of(out, f"{family} {name}"), "")
        if argv[0] == "systemd-run":
            if "arm" in self.fail:
                return self.fail["arm"]
            assert self.timer is None, "systemd-run while a timer of that name is loaded"
            self.timer = argv[-1]
            return 0, "", "Running timer as unit: groundwork-firewall-rollback.timer\n"
        if argv[0] == core.SH:
            return self.execute_rollback(argv[1])
        raise AssertionError(f"unexpected command {argv}")

    def execute_rollback(self, script_path):
        """What the rollback script does (its real text is tested with /bin/sh below)."""
        script = self.files[script_path]
        change = re.search(r"\(change (\w+)\)", script)[1]
        previous = re.search(r" -f (\S+); then", script)[1]
        table = re.search(r"delete table (\w+ [\w-]+)", script)[1]
        rc, _out, err = self.run([NFT, "-f", previous])
        outcome = "restored" if rc == 0 else "deleted"
        if rc != 0:
            self.tables.pop(table, None)
        marker = re.search(r"> (\S+)\.tmp", script)[1]
        self.files[marker] = f"2023-11-14T22:14:20Z {change} {outcome}\n"
        return 0, f"table {table} {outcome}\n", err

    def fire(self):
        """The timer elapses: the rollback runs, and the transient units go away."""
        script, self.timer = self.timer, None
        assert script is not None, "no timer armed"
        self.execute_rollback(script)

    def start_firing(self):
        """The timer elapsed just now: the rollback service is running."""
        self.firing, self.timer = self.timer, None

    def called(self, *prefix):
        return [c for c in self.commands if c[: len(prefix)] == list(prefix)]


def render_of(listing_text: str, key: str) -> str:
    """The listing of one table out of the fake's combined output."""
    family, name = key.split()
    chunks = re.split(r"(?m)^(?=table )", listing_text)
    return next(c for c in chunks if c.startswith(f"table {family} {name} "))


def listing(body: str) -> str:
    return render("inet", "groundwork", body.splitlines())


def applied_and_confirmed(host: FakeHost, body: str = BODY, **kwargs) -> None:
    result = present(host, TableSpec(content=body, **kwargs))
    assert result.armed and not result.failed
    assert confirmed(host, TableSpec()).changed


# --- texts ------------------------------------------------------------------------------


def test_candidate_replaces_only_this_table_in_one_transaction():
    text = candidate_text(TableSpec(content=BODY + "\n\n"))
    assert text.startswith("table inet groundwork\ndelete table inet groundwork\ntable inet groundwork {\n")
    assert text.endswith("limit rate 10/minute burst 5 packets accept\n}\n}\n")
    assert "flush" not in text
    assert "nat" not in text


def test_persisted_file_is_the_candidate_with_a_header():
    spec = TableSpec(content=BODY)
    text = persist_text(spec, paths_for(spec))
    assert text.startswith("# Table inet groundwork, managed by groundwork.server.nftables_table")
    assert text.endswith(candidate_text(spec))
    assert "groundwork-firewall.service" in text


def test_boot_unit_loads_only_the_persisted_file_before_the_network():
    text = unit_text(TableSpec(), P, NFT)
    assert "ExecStart=/usr/sbin/nft -f /etc/groundwork/firewall/groundwork.nft\n" in text
    for line in (
        "Type=oneshot",
        "RemainAfterExit=yes",
        "DefaultDependencies=no",
        "Wants=network-pre.target",
        "Before=network-pre.target shutdown.target",
        "After=nftables.service",
        "WantedBy=sysinit.target",
    ):
        assert line in text.splitlines()
    assert not [line for line in text.splitlines() if "flush" in line and not line.startswith("#")]
    assert "ExecStop" not in text


@pytest.mark.parametrize(
    ("name", "boot_unit", "rollback_unit", "persist"),
    [
        (
            "groundwork",
            "groundwork-firewall.service",
            "groundwork-firewall-rollback",
            "/etc/groundwork/firewall/groundwork.nft",
        ),
        (
            "lab",
            "groundwork-firewall-lab.service",
            "groundwork-firewall-rollback-lab",
            "/etc/groundwork/firewall/lab.nft",
        ),
    ],
)
def test_names_of_units_and_files(name, boot_unit, rollback_unit, persist):
    paths = paths_for(TableSpec(name=name))
    assert (paths.boot_unit, paths.rollback_unit, paths.persist) == (boot_unit, rollback_unit, persist)
    assert paths.marker == f"/var/lib/groundwork/firewall/{name}.rolled-back"
    assert paths.applied == f"/var/lib/groundwork/firewall/{name}.applied"
    assert paths.unit_file == f"/etc/systemd/system/{boot_unit}"


def test_persist_path_overrides_the_default():
    assert paths_for(TableSpec(persist_path="/etc/fw/main.nft")).persist == "/etc/fw/main.nft"


@pytest.mark.parametrize(
    ("spec", "state", "message"),
    [
        (TableSpec(name="1abc", content=""), "present", "name '1abc' is not allowed"),
        (TableSpec(name="a b", content=""), "present", "name 'a b' is not allowed"),
        (TableSpec(name="rollback", content=""), "present", "not starting with 'rollback'"),
        (TableSpec(confirm_timeout=-1, content=""), "present", "confirm_timeout -1 is out of range"),
        (TableSpec(confirm_timeout=86401, content=""), "present", "confirm_timeout 86401 is out of range"),
        (TableSpec(persist_path="rel/x.nft", content=""), "present", "persist_path 'rel/x.nft' must be"),
        (TableSpec(persist_path="/etc/a b.nft", content=""), "present", "persist_path '/etc/a b.nft'"),
        (TableSpec(persist_path="/etc/%n.nft", content=""), "present", "persist_path '/etc/%n.nft'"),
        (TableSpec(), "present", "content is required with state=present"),
        (TableSpec(content="chain c {\n}\n}\ntable ip nat {\n}"), "present", "content line 3 ('}')"),
        (TableSpec(content="} table ip nat {"), "confirmed", "closes the block of table inet groundwork"),
    ],
)
def test_invalid_input_is_refused_before_anything_runs(spec, state, message):
    with pytest.raises(NftablesError, match=re.escape(message)):
        validate(spec, state)


@pytest.mark.parametrize(
    "body",
    [
        'chain c { log prefix "drop } here: " }',
        "chain c {\n  # a closing } in a comment\n}",
        "",
        "set admins { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }",
    ],
)
def test_braces_in_strings_comments_and_sets_are_fine(body):
    check_body(body, "inet groundwork")


def test_nft_messages_name_lines_of_the_content():
    err = f"{CANDIDATE}:5:8-11: Error: syntax error, unexpected rule\n{CANDIDATE}:2:1-4: x"
    assert (
        readable(err, CANDIDATE)
        == "content line 2:8-11: Error: syntax error, unexpected rule\ntable header:1-4: x"
    )


# --- state=present ----------------------------------------------------------------------


def test_first_apply_arms_the_rollback_and_applies_without_touching_other_tables():
    host = FakeHost()
    result = present(host, TableSpec(content=BODY))
    assert result.changed and result.armed and not result.failed
    assert result.comparison == "namespace"
    assert host.tables["inet groundwork"] == listing(BODY)
    assert host.tables["ip nat"] == DOCKER_NAT
    # The previous state was "no table": the rollback deletes the table.
    assert host.files[P.previous].endswith(
        "table inet groundwork\ndelete table inet groundwork\n# (there was no table inet groundwork)\n"
    )
    assert host.modes[P.previous] == 0o600
    assert host.timer == P.rollback
    arm = host.called("systemd-run")[0]
    assert "--unit=groundwork-firewall-rollback" in arm
    assert "--on-active=60s" in arm
    assert "--timer-property=AccuracySec=1s" in arm
    assert arm[-2:] == [core.SH, P.rollback]
    # Armed before applied; persisted only on confirmation.
    order = [c[0] for c in host.commands]
    assert order.index("systemd-run") < host.commands.index([NFT, "-f", CANDIDATE])
    assert P.persist not in host.files
    assert "groundwork-firewall.service" not in host.enabled
    pending = json.loads(host.files[P.pending])
    assert pending["listing"] == listing(BODY)
    assert result.diff == {
        "before_header": "table inet groundwork (live)",
        "after_header": "table inet groundwork (desired)",
        "before": "",
        "after": listing(BODY),
    }
    assert result.previous_digest is None
    assert result.applied_digest == core.digest(listing(BODY))
    assert CANDIDATE not in host.files


def test_confirm_after_success_disarms_and_persists():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    result = confirmed(host, TableSpec())
    assert result.changed and not result.failed and not result.rolled_back
    assert host.timer is None
    assert host.files[P.persist] == persist_text(TableSpec(content=BODY), P)
    assert host.modes[P.persist] == 0o644
    assert host.files[P.unit_file] == unit_text(TableSpec(), P, NFT)
    assert "groundwork-firewall.service" in host.enabled
    assert host.files[P.applied] == listing(BODY)
    assert host.modes[P.applied] == 0o600
    for path in (P.pending, P.previous, P.rollback):
        assert path not in host.files
    # Confirming again: nothing waits, nothing changes.
    again = confirmed(host, TableSpec())
    assert not again.changed and not again.failed
    assert "nothing to confirm" in again.msg


def _systemctl(host, verb):
    return [argv for argv in host.commands if argv[:2] == ["systemctl", verb]]


def test_the_boot_unit_is_loaded_by_one_reload_of_systemd():
    # a new unit: enable reloads systemd's configuration itself, no second reload
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    host.commands.clear()
    assert confirmed(host, TableSpec()).changed
    assert len(_systemctl(host, "enable")) == 1
    assert _systemctl(host, "daemon-reload") == []
    # an enabled unit whose text changed (another persist path): systemd reloads it
    host.files[P.unit_file] = "[Unit]\nDescription=older\n"
    present(host, TableSpec(content=BODY2))
    host.commands.clear()
    assert confirmed(host, TableSpec()).changed
    assert host.files[P.unit_file] == unit_text(TableSpec(), P, NFT)
    assert _systemctl(host, "enable") == []
    assert len(_systemctl(host, "daemon-reload")) == 1


def test_unchanged_second_apply_touches_nothing():
    host = FakeHost()
    applied_and_confirmed(host)
    files, before = dict(host.files), len(host.commands)
    result = present(host, TableSpec(content=BODY))
    assert not result.changed and not result.armed
    assert result.previous_digest == result.applied_digest
    assert host.files == files
    issued = host.commands[before:]
    assert not [c for c in issued if c[0] in ("systemd-run", core.SH)]
    assert [NFT, "-f", CANDIDATE] not in issued
    # The comparison is with nft's own listing: "burst 5 packets" is not shown by nft.
    assert "burst 5 packets" not in host.tables["inet groundwork"]


def test_changed_content_shows_a_diff_of_the_listings():
    host = FakeHost()
    applied_and_confirmed(host)
    result = present(host, TableSpec(content=BODY2))
    assert result.changed and result.armed
    assert result.diff["before"] == listing(BODY)
    assert result.diff["after"] == listing(BODY2)
    assert host.files[P.previous].endswith("delete table inet groundwork\n" + listing(BODY))
    # The boot file still holds the confirmed table until this one is confirmed.
    assert host.files[P.persist] == persist_text(TableSpec(content=BODY), P)


def test_without_confirm_applies_and_persists_directly():
    host = FakeHost()
    result = present(host, TableSpec(content=BODY, confirm_timeout=0))
    assert result.changed and not result.armed
    assert not host.called("systemd-run")
    assert host.tables["inet groundwork"] == listing(BODY)
    assert host.files[P.persist] == persist_text(TableSpec(content=BODY), P)
    assert "groundwork-firewall.service" in host.enabled
    assert P.pending not in host.files
    assert not present(host, TableSpec(content=BODY, confirm_timeout=0)).changed


def test_check_mode_writes_nothing_and_arms_nothing():
    host = FakeHost()
    applied_and_confirmed(host)
    files, tables, before = dict(host.files), dict(host.tables), len(host.commands)
    result = present(host, TableSpec(content=BODY2), check_mode=True)
    assert result.changed and not result.armed
    assert result.diff["after"] == listing(BODY2)
    assert host.files == files and host.tables == tables
    verbs = [c for c in host.commands[before:] if c[0] != "systemctl" or c[1] not in ("show", "is-enabled")]
    assert all(c[0] == "unshare" or c[:3] in ([NFT, "list", "table"], [NFT, "-c", "-f"]) for c in verbs)
    assert host.timer is None


def test_check_mode_on_a_fresh_host():
    host = FakeHost()
    result = present(host, TableSpec(content=BODY), check_mode=True)
    assert result.changed and result.diff["before"] == ""
    assert set(host.files) == set()


def test_nft_check_failure_changes_nothing_and_quotes_nft():
    host = FakeHost()
    applied_and_confirmed(host)
    files, tables = dict(host.files), dict(host.tables)
    with pytest.raises(NftablesError) as raised:
        present(host, TableSpec(content=BODY + "\nchain x {\n  bogus rule\n}"))
    message = str(raised.value)
    assert "nft rejected table inet groundwork (nothing was changed)" in message
    assert "content line 8:3-7: Error: syntax error, unexpected bogus" in message
    assert not raised.value.changed
    assert host.files == files and host.tables == tables and host.timer is None


def test_a_table_that_needs_existing_interfaces_is_refused():
    host = FakeHost()
    with pytest.raises(NftablesError, match=r"does not load in an empty network namespace.*iifname"):
        present(host, TableSpec(content='chain c {\n  iif "eth9" accept\n}'))
    assert "inet groundwork" not in host.tables


def test_apply_failure_after_arming_rolls_back_at_once_and_disarms():
    host = FakeHost()
    applied_and_confirmed(host)
    host.fail["apply"] = (
        1,
        "",
        f"{CANDIDATE}:4:1-5: Error: Could not process rule: No buffer space available\n",
    )
    result = present(host, TableSpec(content=BODY2))
    assert result.failed and result.restored and not result.changed
    assert (
        "applying table inet groundwork failed: content line 1:1-5: Error: Could not process rule"
        in result.msg
    )
    assert "the previous table was restored at once; the rollback is disarmed" in result.msg
    assert host.timer is None
    assert host.called(core.SH, P.rollback)
    assert host.tables["inet groundwork"] == listing(BODY)
    for path in (P.pending, P.previous, P.rollback, P.marker):
        assert path not in host.files


def test_apply_failure_and_a_failing_restore_say_so():
    host = FakeHost()
    applied_and_confirmed(host)
    host.fail["apply"] = (1, "", "Error: out of memory\n")
    host.fail["restore"] = (1, "", "Error: out of memory\n")
    result = present(host, TableSpec(content=BODY2))
    assert result.failed and result.restored is False and result.changed
    assert "RESTORING THE PREVIOUS TABLE FAILED" in result.msg


def test_arming_failure_changes_no_table():
    host = FakeHost()
    applied_and_confirmed(host)
    host.fail["arm"] = (1, "", "Failed to start transient timer unit: Access denied\n")
    with pytest.raises(
        NftablesError, match=r"arming the rollback groundwork-firewall-rollback failed.*Access denied"
    ):
        present(host, TableSpec(content=BODY2))
    assert host.tables["inet groundwork"] == listing(BODY)
    assert P.pending not in host.files


def test_a_changed_boot_file_alone_is_rewritten_without_arming():
    host = FakeHost()
    applied_and_confirmed(host)
    host.files[P.persist] = "# edited by hand\n"
    host.enabled.clear()
    host.commands.clear()
    result = present(host, TableSpec(content=BODY))
    assert result.changed and not result.armed
    assert not host.called("systemd-run")
    assert [NFT, "-f", CANDIDATE] not in host.commands
    assert host.files[P.persist] == persist_text(TableSpec(content=BODY), P)
    assert "groundwork-firewall.service" in host.enabled


def test_reading_the_live_table_fails_with_nfts_message():
    host = FakeHost()
    host.fail["list"] = (1, "", "Error: Operation not permitted\n")
    with pytest.raises(
        NftablesError, match="reading table inet groundwork failed: Error: Operation not permitted"
    ):
        present(host, TableSpec(content=BODY))


# --- commit-confirm: the rollback fires -------------------------------------------------


def test_unconfirmed_change_is_rolled_back_by_the_host_and_confirm_fails():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))
    host.fire()  # the management connection did not come back in time
    assert host.tables["inet groundwork"] == listing(BODY)
    assert host.tables["ip nat"] == DOCKER_NAT
    result = confirmed(host, TableSpec())
    assert result.failed and result.rolled_back and not result.changed
    assert "the host restored the previous table inet groundwork by itself" in result.msg
    assert "after 60 s" in result.msg
    # The boot file still holds the last confirmed table.
    assert host.files[P.persist] == persist_text(TableSpec(content=BODY), P)
    assert P.pending not in host.files
    # The next run starts from the restored table.
    assert not present(host, TableSpec(content=BODY)).changed


def test_rollback_of_a_first_change_deletes_the_table():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    host.fire()
    assert "inet groundwork" not in host.tables
    assert host.tables["ip nat"] == DOCKER_NAT
    assert confirmed(host, TableSpec()).rolled_back


def test_rollback_that_cannot_restore_deletes_and_confirm_says_so():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))
    host.fail["restore"] = (1, "", "Error: whatever\n")
    host.fire()
    assert "inet groundwork" not in host.tables
    result = confirmed(host, TableSpec())
    assert result.rolled_back and "deleted table inet groundwork" in result.msg


def test_confirm_waits_for_a_rollback_that_is_running():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))
    host.start_firing()
    result = confirmed(host, TableSpec())
    assert result.rolled_back and result.failed


def test_confirm_check_mode_reports_a_fired_rollback_and_writes_nothing():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    host.fire()
    files = dict(host.files)
    result = confirmed(host, TableSpec(), check_mode=True)
    assert result.rolled_back and result.failed
    assert host.files == files


def test_confirm_check_mode_on_an_armed_change():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    files = dict(host.files)
    result = confirmed(host, TableSpec(), check_mode=True)
    assert result.changed and not result.failed
    assert host.timer is not None and host.files == files


def test_confirm_refuses_a_table_changed_since():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    host.tables["inet groundwork"] = listing(BODY2)  # changed by hand
    result = confirmed(host, TableSpec())
    assert result.failed and not result.rolled_back
    assert "is not the one state=present applied" in result.msg
    assert host.timer is None
    assert P.persist not in host.files


def test_confirm_refuses_other_content_than_applied():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    with pytest.raises(
        NftablesError, match="differs from the table inet groundwork that state=present applied"
    ):
        confirmed(host, TableSpec(content=BODY2))
    assert host.timer is not None
    assert confirmed(host, TableSpec(content=BODY)).changed


# --- an earlier run that never confirmed -------------------------------------------------


def test_stale_armed_rollback_is_disarmed_when_its_table_is_live():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))  # that run died before confirming
    first_previous = host.files[P.previous]
    body3 = BODY2.replace("443", "8443")
    result = present(host, TableSpec(content=body3))
    assert result.changed and result.armed
    assert host.called("systemctl", "stop", "groundwork-firewall-rollback.timer")
    # It rolls back to the last confirmed table, not to the unconfirmed one.
    assert host.files[P.previous] == first_previous
    host.fire()
    assert host.tables["inet groundwork"] == listing(BODY)


def test_stale_armed_change_with_the_same_content_is_armed_again_for_confirmation():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))
    old_id = json.loads(host.files[P.pending])["id"]
    result = present(host, TableSpec(content=BODY2))
    assert result.changed and result.armed
    assert json.loads(host.files[P.pending])["id"] != old_id
    assert confirmed(host, TableSpec()).changed
    assert host.files[P.persist] == persist_text(TableSpec(content=BODY2), P)


def test_stale_armed_rollback_with_a_changed_table_fails_clearly():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    host.tables["inet groundwork"] = listing(BODY2)  # someone changed it meanwhile
    tables = dict(host.tables)
    with pytest.raises(NftablesError) as raised:
        present(host, TableSpec(content=BODY))
    message = str(raised.value)
    assert (
        "armed at 2023-11-14T22:13:20Z by an earlier run that was never confirmed is still armed" in message
    )
    assert "is not the one that run applied: refusing to change the table" in message
    assert host.timer is not None and host.tables == tables


def test_running_rollback_of_an_earlier_run_fails_clearly():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    host.start_firing()
    with pytest.raises(NftablesError, match="is running now"):
        present(host, TableSpec(content=BODY2))


def test_fired_rollback_of_an_earlier_run_is_over():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))
    host.fire()
    result = present(host, TableSpec(content=BODY2))
    assert result.changed and result.armed
    assert host.files[P.previous].endswith(listing(BODY))
    assert P.marker not in host.files


def test_rollback_firing_while_being_disarmed_counts_as_fired():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))
    real_stop = host.run_systemctl

    def stop_too_late(argv):
        if argv[1] == "stop" and host.timer is not None:
            host.fire()
        return real_stop(argv)

    host.run_systemctl = stop_too_late
    result = present(host, TableSpec(content=BODY2))
    assert result.armed
    assert host.files[P.previous].endswith(listing(BODY))


def test_host_restart_before_confirmation_is_reported():
    host = FakeHost()
    applied_and_confirmed(host)
    present(host, TableSpec(content=BODY2))
    # Restart: the transient timer is gone, the boot unit loaded the confirmed table.
    host.timer = None
    host.tables["inet groundwork"] = listing(BODY)
    result = confirmed(host, TableSpec())
    assert result.failed and not result.rolled_back
    assert "the host restarted and loaded the persisted table" in result.msg
    assert not present(host, TableSpec(content=BODY)).changed


# --- unshare unavailable: the record of the last applied listing -------------------------


def test_without_unshare_the_record_decides_and_a_warning_says_so():
    host = FakeHost(unshare=False)
    first = present(host, TableSpec(content=BODY))
    assert first.comparison == "record" and first.armed
    assert (
        "unshare --net cannot be used on this host (unshare: unshare failed: Operation not permitted)"
        in (first.warnings[0])
    )
    assert first.diff["after"] == "table inet groundwork {\n" + BODY + "\n}\n"
    assert json.loads(host.files[P.pending])["listing"] == listing(BODY)
    assert confirmed(host, TableSpec()).changed
    assert host.files[P.applied] == listing(BODY)

    again = present(host, TableSpec(content=BODY))
    assert not again.changed
    assert again.applied_digest == core.digest(listing(BODY))
    # The live table changed behind the module's back: the record no longer matches.
    host.tables["inet groundwork"] = listing(BODY2)
    assert present(host, TableSpec(content=BODY), check_mode=True).changed
    # New content: changed.
    host.tables["inet groundwork"] = listing(BODY)
    changed = present(host, TableSpec(content=BODY2), check_mode=True)
    assert changed.changed and changed.applied_digest is None


# --- state=absent -----------------------------------------------------------------------


def test_absent_deletes_only_this_table_and_its_boot_files():
    host = FakeHost()
    applied_and_confirmed(host)
    result = absent(host, TableSpec())
    assert result.changed
    assert result.diff["before"] == listing(BODY) and result.diff["after"] == ""
    assert "inet groundwork" not in host.tables
    assert host.tables["ip nat"] == DOCKER_NAT
    assert host.called("systemctl", "disable", "groundwork-firewall.service")
    for path in (P.persist, P.unit_file, P.applied):
        assert path not in host.files
    assert not absent(host, TableSpec()).changed


def test_absent_disarms_a_pending_rollback_first():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    absent(host, TableSpec())
    assert host.timer is None
    assert "inet groundwork" not in host.tables
    assert host.files == {}


def test_absent_check_mode():
    host = FakeHost()
    applied_and_confirmed(host)
    files = dict(host.files)
    assert absent(host, TableSpec(), check_mode=True).changed
    assert host.files == files and "inet groundwork" in host.tables


def test_absent_delete_failure_quotes_nft():
    host = FakeHost()
    applied_and_confirmed(host)
    host.fail["delete"] = (1, "", "Error: Device or resource busy\n")
    with pytest.raises(
        NftablesError, match="deleting table inet groundwork failed: Error: Device or resource busy"
    ):
        absent(host, TableSpec())


def test_persist_failure_after_confirmation_says_what_is_left():
    host = FakeHost()
    present(host, TableSpec(content=BODY))
    host.fail["enable"] = (1, "", "Failed to enable unit: Read-only file system\n")
    with pytest.raises(NftablesError) as raised:
        confirmed(host, TableSpec())
    assert raised.value.changed
    assert "disarmed and the table stays live, but it is not persisted for boot" in str(raised.value)
    assert "Read-only file system" in str(raised.value)


def test_run_state_dispatches():
    host = FakeHost()
    assert core.run_state(host, TableSpec(content=BODY), "present").armed
    assert core.run_state(host, TableSpec(), "confirmed").changed
    assert core.run_state(host, TableSpec(), "absent").changed


# --- the real rollback script with /bin/sh and a stand-in nft -----------------------------


def _script_paths(tmp_path) -> Paths:
    base = tmp_path / "state"
    base.mkdir()
    return Paths(
        persist=str(tmp_path / "persist.nft"),
        previous=str(base / "groundwork.previous"),
        rollback=str(base / "groundwork.rollback"),
        pending=str(base / "groundwork.pending"),
        applied=str(base / "groundwork.applied"),
        marker=str(base / "groundwork.rolled-back"),
        boot_unit="groundwork-firewall.service",
        unit_file=str(tmp_path / "unit"),
        rollback_unit="groundwork-firewall-rollback",
    )


@pytest.mark.parametrize(("nft_rc", "outcome"), [(0, "restored"), (1, "deleted")])
def test_rollback_script_restores_or_deletes_and_leaves_the_marker(tmp_path, nft_rc, outcome):
    paths = _script_paths(tmp_path)
    log = tmp_path / "nft.log"
    nft = tmp_path / "nft"
    nft.write_text(f'#!/bin/sh\necho "$@" >> {log}\n[ "$1" = -f ] && exit {nft_rc}\nexit 0\n')
    nft.chmod(0o755)
    script = rollback_script(TableSpec(), paths, str(nft), "abc123", 0)
    with open(paths.rollback, "w", encoding="utf-8") as handle:
        handle.write(script)
    done = subprocess.run(["/bin/sh", paths.rollback], capture_output=True, text=True, check=True)
    assert f"table inet groundwork {outcome} by the rollback of change abc123" in done.stdout
    marker = Path(paths.marker).read_text(encoding="utf-8").split()
    assert marker[1:] == ["abc123", outcome]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", marker[0])
    calls = log.read_text().splitlines()
    assert calls[0] == f"-f {paths.previous}"
    assert calls[1:] == ([] if outcome == "restored" else ["delete table inet groundwork"])
    assert not os.path.exists(paths.marker + ".tmp")
    assert core.read_marker(_FileHost(), paths) == {"at": marker[0], "id": "abc123", "outcome": outcome}


class _FileHost:
    read = staticmethod(LocalHost.read)


# --- the host adapter -------------------------------------------------------------------


def test_local_host_writes_atomically_with_the_mode(tmp_path):
    host = LocalHost(run=None, which=lambda name: None)
    path = tmp_path / "new" / "dir" / "file"
    host.write(str(path), "one\n", 0o600, 0o700)
    assert path.read_text() == "one\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700 & ~_umask())
    host.write(str(path), "two\n", 0o644)
    assert path.read_text() == "two\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert os.listdir(path.parent) == ["file"]
    assert host.read(str(path)) == "two\n"
    host.remove(str(path))
    host.remove(str(path))
    assert host.read(str(path)) is None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_local_host_temporary_file_is_removed(tmp_path):
    host = LocalHost(run=None, which=lambda name: None)
    with host.temporary("table inet t\n") as path:
        assert Path(path).read_text(encoding="utf-8") == "table inet t\n"
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    assert not os.path.exists(path)


def test_local_host_runs_programs_by_their_full_path():
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, "ok", ""

    host = LocalHost(run, which={"systemctl": "/usr/bin/systemctl"}.get)
    assert host.run(["systemctl", "show"]) == (0, "ok", "")
    assert host.run(["/bin/sh", "-c", "true"]) == (0, "ok", "")
    assert host.run(["unshare", "--net", "true"]) == (127, "", "unshare: command not found")
    assert calls == [["/usr/bin/systemctl", "show"], ["/bin/sh", "-c", "true"]]
    assert len(host.new_id()) == 32
    assert host.now() == pytest.approx(time.time(), abs=5)


def test_local_host_prefers_usr_sbin_nft(monkeypatch):
    monkeypatch.setattr(os.path, "exists", lambda path: path == "/usr/sbin/nft")
    assert LocalHost(run=None, which=lambda name: "/sbin/nft").nft == "/usr/sbin/nft"
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    assert LocalHost(run=None, which=lambda name: "/opt/bin/nft").nft == "/opt/bin/nft"


# --- the no-op decision on the controller (unchanged_by_record) -------------------------


def observed(host: FakeHost, spec: TableSpec | None = None) -> dict:
    """What the firewall role's inspection reads from this host, as roles/firewall/files/inspect.py."""
    spec = spec or TableSpec()
    paths = paths_for(spec)
    rc, out, _err = host.run_nft([NFT, "list", "table", spec.family, spec.name])
    applied = host.files.get(paths.applied)
    return {
        "live": core.digest(core.normalize(out)) if rc == 0 else None,
        "applied": core.digest(core.normalize(applied)) if applied is not None else None,
        "pending": paths.pending in host.files,
        "persist": core.digest(host.files.get(paths.persist)),
        "unit": core.digest(host.files.get(paths.unit_file)),
        "unit_enabled": "enabled" if paths.boot_unit in host.enabled else "disabled",
        "readable": True,
        "paths": core.observed_paths(spec),
    }


def module_changes(host: FakeHost, body: str) -> bool:
    return present(host, TableSpec(content=body), check_mode=True).changed


def drift_live(host):
    host.tables["inet groundwork"] = host.tables["inet groundwork"].replace("accept\n", "drop\n", 1)


def drift_persist(host):
    host.files[P.persist] += "# edited\n"


def drift_unit(host):
    host.enabled.discard(P.boot_unit)


def drift_pending(host):
    present(host, TableSpec(content=BODY2))  # armed, never confirmed


@pytest.mark.parametrize(
    ("prepare", "body", "unchanged"),
    [
        (lambda host: None, BODY, False),  # fresh host
        (applied_and_confirmed, BODY, True),
        (applied_and_confirmed, BODY2, False),  # other content
        (lambda host: (applied_and_confirmed(host), drift_live(host)), BODY, False),
        (lambda host: (applied_and_confirmed(host), drift_persist(host)), BODY, False),
        (lambda host: (applied_and_confirmed(host), drift_unit(host)), BODY, False),
        (lambda host: (applied_and_confirmed(host), drift_pending(host)), BODY, False),
        (lambda host: present(host, TableSpec(content=BODY)), BODY, False),  # armed, not confirmed
    ],
    ids=[
        "fresh",
        "converged",
        "other content",
        "live edited",
        "boot file edited",
        "unit disabled",
        "pending change",
        "armed",
    ],
)
def test_the_record_decides_like_the_module(prepare, body, unchanged):
    host = FakeHost()
    prepare(host)
    assert core.unchanged_by_record(TableSpec(content=body), NFT, observed(host)) is unchanged
    assert module_changes(host, body) is not unchanged


def test_a_stale_record_is_refreshed_by_an_unchanged_apply():
    host = FakeHost()
    applied_and_confirmed(host)
    # nft of another version lists the same table differently than when it was confirmed
    host.files[P.applied] = host.files[P.applied].replace("\t", "    ")
    assert not core.unchanged_by_record(TableSpec(content=BODY), NFT, observed(host))
    assert not module_changes(host, BODY)
    files = dict(host.files)
    result = present(host, TableSpec(content=BODY))
    assert not result.changed
    assert host.files[P.applied] == listing(BODY) and host.modes[P.applied] == 0o600
    assert {k: v for k, v in host.files.items() if k != P.applied} == {
        k: v for k, v in files.items() if k != P.applied
    }
    assert core.unchanged_by_record(TableSpec(content=BODY), NFT, observed(host))


def test_check_mode_never_refreshes_the_record():
    host = FakeHost()
    applied_and_confirmed(host)
    host.files[P.applied] = "stale\n"
    present(host, TableSpec(content=BODY), check_mode=True)
    assert host.files[P.applied] == "stale\n"


@pytest.mark.parametrize(
    "change",
    [
        {"readable": False},
        {"paths": {"state_dir": "/elsewhere", "persist": P.persist, "unit": P.unit_file}},
        {"live": None, "applied": None},
    ],
    ids=["unreadable", "other paths", "no table"],
)
def test_an_incomplete_inspection_never_says_unchanged(change):
    host = FakeHost()
    applied_and_confirmed(host)
    assert core.unchanged_by_record(TableSpec(content=BODY), NFT, observed(host))
    assert not core.unchanged_by_record(TableSpec(content=BODY), NFT, {**observed(host), **change})
    assert not core.unchanged_by_record(TableSpec(content=BODY), None, observed(host))
