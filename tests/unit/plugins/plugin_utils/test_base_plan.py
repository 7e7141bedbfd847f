# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the base role changes, decided from an inspection: nothing on a host as configured,
every kind of difference named, the derived values and the problems of a host."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _base_plan as bp
from ansible_collections.groundwork.server.plugins.plugin_utils._base_role import model_of

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKbNbLnVZ1qNNpZb6Sgq8XmPQBB8o8p3N7dkm1GHUaOF alice@laptop"
ALGORITHMS = {
    "kex": ["sntrup761x25519-sha512", "curve25519-sha256"],
    "cipher": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"],
    "mac": ["hmac-sha2-512-etm@openssh.com"],
    "key-sig": ["ssh-ed25519", "rsa-sha2-512"],
}
VARIABLES = {
    "base_admin_users": [
        {"name": "alice", "comment": "Alice", "groups": ["adm"], "ssh_keys": [KEY]},
        {"name": "carol", "state": "absent"},
    ],
    "base_lockout_protection": True,
    "base_hostname": "",
    "base_timezone": "Etc/UTC",
    "base_locale": "C.UTF-8",
    "base_timesync": "none",
    "base_ntp_servers": ["2.debian.pool.ntp.org"],
    "base_timesync_clock_control": "auto",
    "base_unattended_upgrades": True,
    "base_unattended_upgrades_reboot": False,
    "base_unattended_upgrades_reboot_time": "02:00",
    "base_unattended_upgrades_origins": [],
    "base_unattended_upgrades_blocklist": [],
    "base_packages": ["less"],
    "base_apt_cache_valid_time": 3600,
    "base_journald_system_max_use": "500M",
    "base_sysctl_forwarding": False,
    "base_sysctl_apply": "auto",
    "base_sysctl_extra": {},
    "base_sshd_port": 22,
    "base_sshd_kex_algorithms": ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "curve25519-sha256"],
    "base_sshd_ciphers": ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"],
    "base_sshd_macs": ["hmac-sha2-512-etm@openssh.com"],
    "base_sshd_host_key_algorithms": ["ssh-ed25519"],
    "base_sshd_client_alive_interval": 300,
    "base_sshd_client_alive_count_max": 3,
    "base_sshd_login_grace_time": 30,
    "base_sshd_max_auth_tries": 3,
    "base_sshd_allow_tcp_forwarding": False,
    "base_sshd_allow_agent_forwarding": False,
}
DROPIN = bp.SSHD_DROPIN
CLOUD = "/etc/ssh/sshd_config.d/50-cloud-init.conf"


def model(**changes):
    built, problems = model_of({**VARIABLES, **changes})
    assert problems == []
    return built


def render(derived):
    """Stands in for context.render("files.j2"): a text per template that shows the values."""
    settings = derived["sshd_settings"]
    return {
        "locale": "LANG=C.UTF-8\n",
        "journald": "[Journal]\n",
        "sysctl": "".join(f"{name} = {value}\n" for name, value in derived["sysctl"]),
        "unattended_upgrades": f"codename {derived['os']['codename']}\n",
        "sudoers": "".join(f"{user['name']} ALL\n" for user in derived["users_present"]),
        "sshd": "".join(f"{key} {value}\n" for key, value in settings.items()),
        "chrony_conf": f"clock control {derived['clock_control']}\n",
        "chrony_default": "-x\n",
        "chrony_unit": "[Unit]\n",
        "timesyncd": "[Time]\n",
    }


def present(content, mode="0644"):
    return {"state": "file", "sha256": digest(content), "owner": "root", "group": "root", "mode": mode}


def converged(built=None, release="12", container="docker"):
    """The inspection of a host on which the role has run with ``built``."""
    built = built or model()
    inspection = {
        "os": {
            "id": "debian",
            "name": "Debian GNU/Linux",
            "version_id": release,
            "version": f"{release}.1",
            "codename": "bookworm" if release == "12" else "trixie",
            "container": container,
        },
        "packages": {bp.package_name(name): "installed" for name in bp.packages(built)},
        "units": {unit: {"enabled": "enabled", "active": "active"} for unit in bp.UNITS},
        "files": {path: {"state": "absent"} for path in bp.FILES},
        "probe": {
            "sshd_dropins": {},
            "ssh_algorithms": ALGORITHMS,
            "sshd": {"installed": True, "output": None, "error": None},
            "hostname": {"current": "web1", "static": "web1"},
            "localtime": "/usr/share/zoneinfo/Etc/UTC",
            "locales": ["C", "C.utf8", "POSIX"],
            "users": {
                "alice": {
                    "shell": "/bin/bash",
                    "gecos": "Alice",
                    "home_exists": True,
                    "groups": ["adm", "sudo"],
                    "authorized_keys": {"content": KEY + "\n"},
                },
                "carol": None,
            },
        },
    }
    derived = bp.derive(built, inspection)
    files = bp.fill(bp.file_specs(built, derived), render(derived))
    for group in bp.GROUPS:
        for spec in files[group]:
            if spec["state"] == "present":
                inspection["files"][spec["path"]] = present(spec["content"], spec["mode"])
    if derived["locale_link"]:
        inspection["files"][bp.LOCALE_DEFAULT] = {"state": "link", "target": "../locale.conf"}
    effective = "".join(f"{key.lower()} {value}\n" for key, value in derived["sshd_settings"].items())
    inspection["probe"]["sshd"]["output"] = effective
    inspection["probe"]["sshd_dropins"][DROPIN] = {
        "content": files["sshd"][0]["content"],
        "file": inspection["files"][DROPIN],
    }
    return inspection


def decide(built, inspection, check_mode=False):
    derived = bp.derive(built, inspection)
    return bp.decide(built, inspection, derived, render(derived), check_mode)


def summary(plan):
    return [str(change) for change in plan.changes]


@pytest.mark.parametrize(
    ("changes", "release", "container"),
    [
        ({}, "12", "docker"),
        ({}, "13", "none"),
        ({"base_timesync": "chrony"}, "12", "docker"),
        ({"base_timesync": "chrony"}, "13", "none"),
        ({"base_timesync": "timesyncd"}, "12", "none"),
        ({"base_unattended_upgrades": False, "base_hostname": "web1"}, "12", "docker"),
    ],
)
def test_a_host_as_configured_changes_nothing(changes, release, container):
    built = model(**changes)
    plan = decide(built, converged(built, release, container))
    assert summary(plan) == [] and plan.problems == []
    assert plan.data["steps"] == [] and plan.data["write"] == [] and plan.data["timers"] == []
    assert plan.data["users"] == {"create": [], "authorize": [], "clear_keys": [], "remove": []}


def set_file(path, **state):
    return lambda i: i["files"][path].update(state)


def set_probe(key, value):
    return lambda i: i["probe"].update({key: value})


def set_user(name, **values):
    return lambda i: i["probe"]["users"].update(
        {name: values and {**(i["probe"]["users"][name] or {}), **values}}
    )


# (variables, inspection change, check mode) -> changes, steps
CASES = {
    "package missing": (
        {},
        lambda i: i["packages"].update(less="not-installed"),
        False,
        ["package less: not installed"],
        ["packages"],
    ),
    "package with a version": (
        {"base_packages": ["less=590-2"]},
        lambda i: None,
        False,
        ["package less=590-2: not installed"],
        ["packages"],
    ),
    "fresh host in check mode": (
        {},
        lambda i: i["packages"].update({"python3-apt": "not-installed", "tzdata": "not-installed"}),
        True,
        ["package python3-apt: not installed", "package tzdata: not installed"],
        ["packages_report"],
    ),
    "host name": (
        {"base_hostname": "web2"},
        lambda i: None,
        False,
        ["hostname web2: is 'web1' (static 'web1')"],
        ["hostname"],
    ),
    "time zone": (
        {"base_timezone": "Europe/Berlin"},
        lambda i: None,
        False,
        ["timezone Europe/Berlin: is Etc/UTC"],
        ["timezone"],
    ),
    "time zone without tzdata in check mode": (
        {"base_timezone": "Europe/Berlin"},
        lambda i: i["packages"].update(tzdata="not-installed"),
        True,
        ["package tzdata: not installed", "timezone Europe/Berlin: is Etc/UTC"],
        ["packages"],
    ),
    "locale": (
        {"base_locale": "de_DE.UTF-8"},
        lambda i: None,
        False,
        ["locale de_DE.UTF-8: not generated"],
        ["locale"],
    ),
    "locale generated": (
        {"base_locale": "de_DE.UTF-8"},
        lambda i: i["probe"].update(locales=["C", "de_DE.utf8"]),
        False,
        [],
        [],
    ),
    "file content": (
        {},
        set_file(bp.SYSCTL, sha256="0" * 64),
        False,
        [f"file {bp.SYSCTL}: content differs"],
        ["system_files"],
    ),
    "file mode": (
        {},
        set_file(bp.SUDOERS, mode="0644"),
        False,
        [f"file {bp.SUDOERS}: owner, group or mode differs"],
        ["system_files"],
    ),
    "missing file": (
        {},
        set_file(bp.JOURNALD, state="absent"),
        False,
        [f"file {bp.JOURNALD}: does not exist"],
        ["system_files"],
    ),
    "our drop-in": (
        {},
        set_file(DROPIN, sha256="0" * 64),
        False,
        [f"file {DROPIN}: content differs"],
        ["sshd_files"],
    ),
    "ssh unit": (
        {},
        lambda i: i["units"].update({"ssh.service": {"enabled": "enabled", "active": "inactive"}}),
        False,
        ["service ssh.service: not running (inactive)"],
        ["ssh_start"],
    ),
    "apt timer": (
        {},
        lambda i: i["units"].update({"apt-daily.timer": {"enabled": "disabled", "active": "active"}}),
        False,
        ["service apt-daily.timer: not enabled (disabled)"],
        [],
    ),
    "chrony unit": (
        {"base_timesync": "chrony"},
        lambda i: i["units"].update({"chrony.service": {"enabled": "enabled", "active": "failed"}}),
        False,
        ["service chrony.service: not running (failed)"],
        ["chrony_start"],
    ),
    "chrony unit drop-in gone": (
        {"base_timesync": "chrony"},
        set_file(bp.CHRONY_UNIT_DROPIN, state="absent"),
        False,
        [f"file {bp.CHRONY_UNIT_DROPIN}: does not exist"],
        ["chrony_files", "chrony_start"],
    ),
    "timesyncd file": (
        {"base_timesync": "timesyncd"},
        set_file(bp.TIMESYNCD, owner="nobody"),
        False,
        [f"file {bp.TIMESYNCD}: owner, group or mode differs"],
        ["timesyncd_files"],
    ),
    "user shell": (
        {},
        set_user("alice", shell="/bin/sh"),
        False,
        ["user alice: shell, comment, home or groups differ"],
        [],
    ),
    "user group": (
        {},
        set_user("alice", groups=["sudo"]),
        False,
        ["user alice: shell, comment, home or groups differ"],
        [],
    ),
    "keys": (
        {},
        set_user("alice", authorized_keys={"content": "ssh-ed25519 OTHER\n"}),
        False,
        ["keys alice: authorized keys differ"],
        [],
    ),
    "user to remove": ({}, set_user("carol", shell="/bin/bash"), False, ["user carol: marked absent"], []),
    "debian 13 link": (
        {},
        lambda i: i["files"].update({bp.LOCALE_DEFAULT: present("LANG=C.UTF-8\n")}),
        False,
        ["link /etc/default/locale: not a link to ../locale.conf"],
        ["locale_link"],
    ),
}


@pytest.mark.parametrize(
    ("variables", "change", "check_mode", "expected", "steps"), CASES.values(), ids=CASES.keys()
)
def test_every_difference_is_named(variables, change, check_mode, expected, steps):
    built = model(**variables)
    release = "13" if "link" in str(expected) else "12"
    inspection = converged(built, release, "none" if built["base_timesync"] == "timesyncd" else "docker")
    change(inspection)
    plan = decide(built, inspection, check_mode)
    assert summary(plan) == expected
    assert plan.problems == []
    assert sorted(plan.data["steps"]) == sorted(steps)


@pytest.mark.parametrize(
    ("path", "restart"),
    [(bp.JOURNALD, True), (bp.SYSCTL, False)],
    ids=["journald drop-in", "another system file"],
)
def test_journald_restarts_only_when_its_drop_in_changes(path, restart):
    built = model()
    inspection = converged(built, "12", "docker")
    inspection["files"][path] = present("changed by hand\n", "0644")
    plan = decide(built, inspection)
    assert "system_files" in plan.data["steps"]
    assert plan.data["system_service"] == ("systemd-journald.service" if restart else None)
    assert plan.data["system_activate"] == ("restart" if restart else "none")


def test_users_and_keys_go_to_their_tasks():
    built = model(
        base_admin_users=[
            {"name": "alice", "ssh_keys": [KEY]},
            {"name": "dave", "sudo": False},
            {"name": "carol", "state": "absent"},
        ],
        base_lockout_protection=True,
    )
    inspection = converged(built)
    inspection["probe"]["users"] = {
        "alice": None,
        "dave": {
            "shell": "/bin/bash",
            "gecos": "",
            "home_exists": True,
            "groups": [],
            "authorized_keys": {"content": KEY + "\n"},
        },
        "carol": {"shell": "/bin/bash"},
    }
    real = decide(built, inspection)
    names = {task: [user["name"] for user in users] for task, users in real.data["users"].items()}
    assert names == {"create": ["alice"], "authorize": ["alice"], "clear_keys": ["dave"], "remove": ["carol"]}
    # in check mode the keys of a user still to be created are left out
    check = decide(built, inspection, check_mode=True)
    assert [user["name"] for user in check.data["users"]["authorize"]] == []
    assert summary(check) == summary(real)


def test_keys_compare_by_their_words():
    built = model()
    inspection = converged(built)
    inspection["probe"]["users"]["alice"]["authorized_keys"]["content"] = KEY.replace(" ", "   ") + "\n"
    assert summary(decide(built, inspection)) == []


def test_contradicting_lines_in_other_dropins_are_commented_out():
    built = model()
    inspection = converged(built)
    text = (
        "PasswordAuthentication yes\n# PasswordAuthentication yes\nPermitRootLogin no\n"
        "challengeresponseauthentication  yes\n"
    )
    state = present(text, "0600")
    inspection["probe"]["sshd_dropins"][CLOUD] = {"content": text, "file": state}
    plan = decide(built, inspection)
    assert summary(plan) == [f"file {CLOUD}: content differs"]
    assert plan.data["steps"] == ["sshd_files"]
    corrected = plan.data["files"]["sshd"][1]
    assert corrected["mode"] == "0600" and corrected["path"] == CLOUD
    assert corrected["content"] == (
        "# Disabled by groundwork.server.base (contradicts 00-groundwork.conf): PasswordAuthentication yes\n"
        "# PasswordAuthentication yes\n"
        "PermitRootLogin no\n"
        "# Disabled by groundwork.server.base (contradicts 00-groundwork.conf):"
        " challengeresponseauthentication  yes\n"
    )
    # once corrected, it stays
    inspection["probe"]["sshd_dropins"][CLOUD] = {
        "content": corrected["content"],
        "file": present(corrected["content"], "0600"),
    }
    assert summary(decide(built, inspection)) == []


# --- problems of the host -----------------------------------------------------------------

PROBLEMS = {
    "release": (
        {},
        lambda i: i["os"].update(version_id="11", version="11.9"),
        "groundwork.server.base supports Debian 12 and 13; this host runs Debian GNU/Linux 11.9.",
    ),
    "other system": (
        {},
        lambda i: i["os"].update(id="ubuntu", name="Ubuntu", version="24.04"),
        "groundwork.server.base supports Debian 12 and 13; this host runs Ubuntu 24.04.",
    ),
    "timesyncd in a container": (
        {"base_timesync": "timesyncd"},
        lambda i: None,
        "base_timesync: 'timesyncd' can only synchronise time by setting the clock, which this container may"
        " not do. Use 'chrony', which tracks and serves time without touching the clock.",
    ),
    "timesyncd without clock control": (
        {"base_timesync": "timesyncd", "base_timesync_clock_control": False},
        lambda i: i["os"].update(container="none"),
        "base_timesync: 'timesyncd' can only synchronise time by setting the clock, which"
        " base_timesync_clock_control forbids. Use 'chrony', which tracks and serves time without touching"
        " the clock.",
    ),
    "algorithms": (
        {"base_sshd_macs": ["umac-64@openssh.com"]},
        lambda i: None,
        'base_sshd_macs: none of ["umac-64@openssh.com"] is supported by this host\'s OpenSSH'
        " (see 'ssh -Q mac').",
    ),
    "effective configuration": (
        {},
        lambda i: i["probe"]["sshd"].update(
            output=i["probe"]["sshd"]["output"].replace(
                "passwordauthentication no", "passwordauthentication yes"
            )
        ),
        "The effective sshd configuration ('sshd -T') differs from /etc/ssh/sshd_config.d/00-groundwork.conf:"
        ' passwordauthentication is "yes", wanted "no"; a setting in /etc/ssh/sshd_config before its Include'
        " line wins over the drop-ins; move or remove it.",
    ),
    "sshd -T fails": (
        {},
        lambda i: i["probe"]["sshd"].update(output=None, error="line 1: Bad configuration option: Nope"),
        "The effective sshd configuration could not be read ('sshd -T'):"
        " line 1: Bad configuration option: Nope",
    ),
}


@pytest.mark.parametrize(("variables", "change", "expected"), PROBLEMS.values(), ids=PROBLEMS.keys())
def test_problems_of_the_host(variables, change, expected):
    built = model(**variables)
    inspection = converged(model())
    change(inspection)
    assert decide(built, inspection).problems == [expected]


def test_the_effective_configuration_is_checked_after_the_sshd_change():
    built = model(base_sshd_max_auth_tries=5)
    inspection = converged(model())
    inspection["probe"]["sshd"].update(output=None, error="line 1: Bad configuration option: Nope")
    plan = decide(built, inspection)
    # the drop-in changes: its transaction checks it (sshd -t, then the effect) before sshd reloads
    assert plan.problems == [] and "sshd_files" in plan.data["steps"]
    assert plan.data["sshd_validate"] == bp.sshd_validate(bp.derive(built, inspection)["sshd_settings"])
    assert decide(model(), converged(model())).data["sshd_validate"] == []


def test_without_openssh_every_algorithm_is_kept_and_nothing_is_checked():
    built = model()
    inspection = converged(built)
    inspection["packages"]["openssh-server"] = "not-installed"
    inspection["probe"]["ssh_algorithms"] = None
    inspection["probe"]["sshd"] = {"installed": False, "output": None, "error": None}
    plan = decide(built, inspection, check_mode=True)
    assert plan.problems == []
    assert "sshd_files" not in plan.data["steps"] and "ssh_start" not in plan.data["steps"]
    assert f"file {DROPIN}: content differs" in summary(plan)


# --- derived values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, ["python3-apt", "openssh-server", "sudo", "tzdata", "unattended-upgrades", "less"]),
        (
            {"base_locale": "de_DE.UTF-8", "base_timesync": "chrony", "base_unattended_upgrades": False},
            ["python3-apt", "openssh-server", "sudo", "tzdata", "locales", "chrony", "less"],
        ),
        (
            {"base_timesync": "timesyncd", "base_packages": []},
            ["python3-apt", "openssh-server", "sudo", "tzdata", "systemd-timesyncd", "unattended-upgrades"],
        ),
    ],
)
def test_packages(variables, expected):
    assert bp.packages(model(**variables)) == expected


@pytest.mark.parametrize(
    ("setting", "container", "expected"),
    [("auto", "docker", False), ("auto", "none", True), (True, "docker", True), (False, "none", False)],
)
def test_what_the_host_kind_allows(setting, container, expected):
    assert bp.host_allows(setting, container) is expected


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("12", ("/etc/default/locale", False)),
        ("13", ("/etc/locale.conf", True)),
        ("", ("/etc/default/locale", False)),
    ],
)
def test_locale_file_by_release(release, expected):
    assert bp.locale_file({"version_id": release}) == expected


@pytest.mark.parametrize(
    ("forwarding", "extra", "present_keys", "absent_keys"),
    [
        (
            False,
            {},
            {"-kernel.yama.ptrace_scope": 1, "net.ipv4.ip_forward": 0, "-net.ipv6.conf.all.forwarding": 0},
            [],
        ),
        (True, {}, {"kernel.kptr_restrict": 2}, ["net.ipv4.ip_forward", "-net.ipv6.conf.all.forwarding"]),
        (
            True,
            {"vm.swappiness": 10, "net.ipv4.ip_forward": 1},
            {"vm.swappiness": 10, "net.ipv4.ip_forward": 1},
            [],
        ),
    ],
)
def test_sysctl(forwarding, extra, present_keys, absent_keys):
    lines = bp.sysctl_lines(bp.sysctl_settings(forwarding, extra))
    names = [name for name, _value in lines]
    assert names == sorted(names, key=lambda name: name.lstrip("-").lower())
    table = dict(lines)
    for key, value in present_keys.items():
        assert table[key] == value
    for key in absent_keys:
        assert key not in table


def test_sshd_settings_keep_only_what_the_host_supports():
    settings = bp.sshd_settings(ALGORITHMS, model())
    assert settings["KexAlgorithms"] == "sntrup761x25519-sha512,curve25519-sha256"
    assert settings["Ciphers"] == "chacha20-poly1305@openssh.com"
    assert settings["Port"] == "22" and settings["AllowTcpForwarding"] == "no"
    assert list(settings)[:2] == ["PermitRootLogin", "PasswordAuthentication"]
    # without OpenSSH installed yet every listed algorithm is kept
    assert bp.sshd_settings(None, model())["KexAlgorithms"] == ",".join(VARIABLES["base_sshd_kex_algorithms"])


@pytest.mark.parametrize(
    ("variables", "container", "templates", "chrony_unit"),
    [
        ({}, "docker", ["locale", "journald", "sysctl", "unattended_upgrades", "sudoers", "sshd"], None),
        (
            {"base_timesync": "chrony"},
            "docker",
            [
                "locale",
                "journald",
                "sysctl",
                "unattended_upgrades",
                "sudoers",
                "sshd",
                "chrony_conf",
                "chrony_default",
                "chrony_unit",
            ],
            "present",
        ),
        (
            {"base_timesync": "chrony"},
            "none",
            [
                "locale",
                "journald",
                "sysctl",
                "unattended_upgrades",
                "sudoers",
                "sshd",
                "chrony_conf",
                "chrony_default",
            ],
            "absent",
        ),
        (
            {"base_timesync": "timesyncd"},
            "none",
            ["locale", "journald", "sysctl", "unattended_upgrades", "sudoers", "sshd", "timesyncd"],
            None,
        ),
    ],
)
def test_templates_and_file_specs(variables, container, templates, chrony_unit):
    built = model(**variables)
    derived = bp.derive(built, {"os": {"version_id": "12", "container": container}})
    assert list(derived["templates"]) == templates
    files = bp.fill(bp.file_specs(built, derived), render(derived))
    unit = [spec for spec in files["chrony"] if spec["path"] == bp.CHRONY_UNIT_DROPIN]
    assert (unit[0]["state"] if unit else None) == chrony_unit
    if chrony_unit == "absent":
        assert unit[0]["content"] is None
    assert files["sudoers"][0]["mode"] == "0440"


def test_the_plan_does_not_change_its_input():
    built = model()
    inspection = converged(built)
    before = copy.deepcopy((built, inspection))
    decide(built, inspection)
    assert (built, inspection) == before
