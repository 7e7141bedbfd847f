# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What groundwork.server.base changes on a host: pure functions of the validated model
(plugin_utils/_base_model.py) and the inspection (the shared probe library with the role's
probe, plugin_utils/_probes/base.py). plugin_utils/_base_role.py composes them.

- derived values: the packages, the time daemon's packages, clock control and sysctl
  activation on containers, the kernel parameters, the locale file of the release, the sshd
  settings the host's OpenSSH supports;
- the file specs of each group (system, sudoers, chrony, timesyncd, sshd) and the other sshd
  drop-ins with their contradicting lines commented out;
- the changes (packages, files, units, users, keys, host name, time zone, locale) and the
  problems of the host (release, time daemon, algorithms, effective sshd configuration).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _base_plan
"""

from __future__ import annotations

import json
import posixpath
import re

from ansible_collections.groundwork.server.plugins.plugin_utils import _sshd_config_mismatches as sshd_check
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    file_changes,
    missing_packages,
    package_changes,
    release_problem,
    unit_changes,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._sshd_config_mismatches import (
    mismatch_message,
    sshd_config_mismatches,
)

# --- constants --------------------------------------------------------------------------

REQUIRED_PACKAGES = ("python3-apt", "openssh-server", "sudo", "tzdata")
# Locales that exist without the locales package.
BUILTIN_LOCALES = ("C", "C.UTF-8", "C.utf8", "POSIX")
TIMESYNC_PACKAGES = {"chrony": ["chrony"], "timesyncd": ["systemd-timesyncd"], "none": []}
TIMESYNC_UNITS = {"chrony": "chrony.service", "timesyncd": "systemd-timesyncd.service"}
APT_TIMERS = ("apt-daily.timer", "apt-daily-upgrade.timer")
SSH_UNIT = "ssh.service"
UNITS = (SSH_UNIT, "chrony.service", "systemd-timesyncd.service", *APT_TIMERS)

SSHD_DROPIN_DIR = "/etc/ssh/sshd_config.d"
# Sorts before the other drop-ins; sshd keeps the first value it reads for a keyword.
SSHD_DROPIN = f"{SSHD_DROPIN_DIR}/00-groundwork.conf"
SUDOERS = "/etc/sudoers.d/groundwork-admins"
# The sshd transaction's checker, run on the host (sshd_validate below).
with open(sshd_check.__file__, encoding="utf-8") as _source:
    SSHD_CHECK_SOURCE = _source.read()
JOURNALD = "/etc/systemd/journald.conf.d/90-groundwork.conf"
JOURNALD_UNIT = "systemd-journald.service"
# The checkers of the sudo rules and of the system files (apt reads the unattended upgrades'
# settings), run on the whole candidate configuration of their one transaction.
SYSTEM_VALIDATE = ["/bin/sh", "-c", "/usr/sbin/visudo -c -q && /usr/bin/apt-config dump > /dev/null"]
# The groups of files written by that transaction (when one of them differs).
SYSTEM_GROUPS = ("sudoers", "system")
SYSCTL = "/etc/sysctl.d/90-groundwork.conf"
UNATTENDED = "/etc/apt/apt.conf.d/52groundwork-unattended-upgrades"
TIMESYNCD = "/etc/systemd/timesyncd.conf.d/groundwork.conf"
CHRONY_CONF = "/etc/chrony/chrony.conf"
CHRONY_DEFAULT = "/etc/default/chrony"
CHRONY_UNIT_DROPIN = "/etc/systemd/system/chrony.service.d/groundwork.conf"
# Debian 13 keeps the default locale in systemd's /etc/locale.conf; /etc/default/locale is a
# link to it (the locales package turns a plain file there into that link). Debian 12 reads
# /etc/default/locale itself.
LOCALE_DEFAULT = "/etc/default/locale"
LOCALE_CONF = "/etc/locale.conf"
LOCALE_LINK_TARGET = "../locale.conf"
# Every file the role may write: the inspection reads all of them.
FILES = (
    LOCALE_DEFAULT,
    LOCALE_CONF,
    JOURNALD,
    SYSCTL,
    UNATTENDED,
    SUDOERS,
    TIMESYNCD,
    SSHD_DROPIN,
    CHRONY_CONF,
    CHRONY_DEFAULT,
    CHRONY_UNIT_DROPIN,
)
MARKER = "groundwork.server.base"

# Kernel parameters set on every host.
SYSCTL_COMMON = {
    "kernel.kptr_restrict": 2,
    "kernel.dmesg_restrict": 1,
    "kernel.yama.ptrace_scope": 1,
    "kernel.unprivileged_bpf_disabled": 1,
    "net.core.bpf_jit_harden": 2,
    "fs.protected_hardlinks": 1,
    "fs.protected_symlinks": 1,
    "fs.protected_fifos": 2,
    "fs.protected_regular": 2,
    "fs.suid_dumpable": 0,
    "net.ipv4.tcp_syncookies": 1,
    "net.ipv4.icmp_echo_ignore_broadcasts": 1,
    "net.ipv4.icmp_ignore_bogus_error_responses": 1,
    "net.ipv4.conf.all.accept_redirects": 0,
    "net.ipv4.conf.default.accept_redirects": 0,
    "net.ipv4.conf.all.secure_redirects": 0,
    "net.ipv4.conf.default.secure_redirects": 0,
    "net.ipv4.conf.all.accept_source_route": 0,
    "net.ipv4.conf.default.accept_source_route": 0,
    "net.ipv4.conf.all.log_martians": 1,
    "net.ipv4.conf.default.log_martians": 1,
    "net.ipv6.conf.all.accept_redirects": 0,
    "net.ipv6.conf.default.accept_redirects": 0,
    "net.ipv6.conf.all.accept_source_route": 0,
    "net.ipv6.conf.default.accept_source_route": 0,
    # The dev-sec Linux baseline's (sysctl-05, -06, -10, -30, -32): ICMP errors rate-limited,
    # TIME-WAIT assassination refused, no magic SysRq keys, full address space randomisation.
    "net.ipv4.icmp_ratelimit": 100,
    "net.ipv4.icmp_ratemask": 88089,
    "net.ipv4.tcp_rfc1337": 1,
    "kernel.sysrq": 0,
    "kernel.randomize_va_space": 2,
}
# Only on hosts that do not forward packets.
SYSCTL_NO_FORWARDING = {
    "net.ipv4.ip_forward": 0,
    "net.ipv6.conf.all.forwarding": 0,
    "net.ipv4.conf.all.rp_filter": 1,
    "net.ipv4.conf.default.rp_filter": 1,
    "net.ipv4.conf.all.send_redirects": 0,
    "net.ipv4.conf.default.send_redirects": 0,
    # ARP answers only for addresses of the interface asked, announced from it (dev-sec
    # sysctl-08, -09); a host that forwards or moves addresses between interfaces decides itself.
    "net.ipv4.conf.all.arp_ignore": 1,
    "net.ipv4.conf.all.arp_announce": 2,
}
# Written with a leading "-" so systemd-sysctl skips them where the running kernel lacks
# them (IPv6 disabled, no Yama, no BPF).
SYSCTL_OPTIONAL = frozenset(
    {
        "kernel.yama.ptrace_scope",
        "kernel.unprivileged_bpf_disabled",
        "net.core.bpf_jit_harden",
        "net.ipv6.conf.all.accept_redirects",
        "net.ipv6.conf.default.accept_redirects",
        "net.ipv6.conf.all.accept_source_route",
        "net.ipv6.conf.default.accept_source_route",
        "net.ipv6.conf.all.forwarding",
    }
)

# sshd: the settings with fixed values (the point of the role), the algorithm lists, and
# keyword aliases that mean the same as a managed keyword (sshd -T prints the modern name).
SSHD_FIXED = {
    "PermitRootLogin": "no",
    "PasswordAuthentication": "no",
    "KbdInteractiveAuthentication": "no",
    "PermitEmptyPasswords": "no",
    "PubkeyAuthentication": "yes",
    "HostbasedAuthentication": "no",
    "IgnoreRhosts": "yes",
    "PermitUserEnvironment": "no",
    "X11Forwarding": "no",
    "LogLevel": "VERBOSE",
    # The dev-sec SSH baseline's (sshd-21, -24, -31, -35, -45, -47): fewer unauthenticated
    # connections before refusing, no user known_hosts for host-based logins, no local
    # password fallback behind Kerberos, liveness by the encrypted ClientAlive messages only
    # (TCP keepalives can be spoofed), no last-login lookup, no Debian version in the banner.
    "MaxStartups": "10:30:60",
    "IgnoreUserKnownHosts": "yes",
    "KerberosOrLocalPasswd": "no",
    "TCPKeepAlive": "no",
    "PrintLastLog": "no",
    "DebianBanner": "no",
}
SSHD_ALGORITHMS = (
    ("KexAlgorithms", "base_sshd_kex_algorithms", "kex"),
    ("Ciphers", "base_sshd_ciphers", "cipher"),
    ("MACs", "base_sshd_macs", "mac"),
    ("HostKeyAlgorithms", "base_sshd_host_key_algorithms", "key-sig"),
)
SSHD_ALIASES = {"ChallengeResponseAuthentication": "KbdInteractiveAuthentication"}

# The file groups, each applied by one task, and the template of each file.
GROUPS = ("system", "sudoers", "chrony", "timesyncd", "sshd")
TEMPLATES = {
    "locale": "locale.j2",
    "journald": "journald.conf.j2",
    "sysctl": "sysctl.conf.j2",
    "unattended_upgrades": "unattended-upgrades.j2",
    "sudoers": "sudoers.j2",
    "sshd": "sshd_config.conf.j2",
    "chrony_conf": "chrony.conf.j2",
    "chrony_default": "chrony.default.j2",
    "chrony_unit": "chrony.service.conf.j2",
    "timesyncd": "timesyncd.conf.j2",
}


def _json(value):
    return json.dumps(value)


# --- derived values ---------------------------------------------------------------------


def needs_locales(locale):
    return locale not in BUILTIN_LOCALES


def packages(model):
    """Everything the role installs, in one apt transaction with base_packages."""
    return [
        *REQUIRED_PACKAGES,
        *(["locales"] if needs_locales(model["base_locale"]) else []),
        *TIMESYNC_PACKAGES[model["base_timesync"]],
        *(["unattended-upgrades"] if model["base_unattended_upgrades"] else []),
        *model["base_packages"],
    ]


def package_name(entry):
    """The name dpkg knows a package by (without '=version' or ':arch')."""
    return re.sub(r"[=:].*$", "", entry)


def host_allows(setting, container):
    """``auto`` (allowed on a VM or real hardware, not in a container) or a boolean: containers
    share the host's kernel clock and /proc/sys."""
    return container in (None, "", "none") if setting == "auto" else bool(setting)


def sysctl_settings(forwarding, extra):
    settings = dict(SYSCTL_COMMON)
    if not forwarding:
        settings.update(SYSCTL_NO_FORWARDING)
    settings.update(extra or {})
    return settings


def sysctl_lines(settings):
    """[name, value] in the file's order (by name, case-insensitively), optional names with "-"."""
    return [
        [("-" if key in SYSCTL_OPTIONAL else "") + key, value]
        for key, value in sorted(settings.items(), key=lambda item: (item[0].lower(), item[0]))
    ]


def release_major(os_release):
    version = str((os_release or {}).get("version_id") or "")
    return int(version) if version.isdigit() else 0


def locale_file(os_release):
    """The file that holds the default locale, and whether /etc/default/locale links to it."""
    if release_major(os_release) >= 13:
        return LOCALE_CONF, True
    return LOCALE_DEFAULT, False


def sshd_settings(supported, options):
    """The sshd settings, the algorithm lists cut down to what the host's OpenSSH supports.

    ``supported`` is what ``ssh -Q`` printed ({"kex": [...], "cipher": ..., "mac": ..., "key-sig": ...});
    without OpenSSH installed yet (check mode on a fresh host) every listed algorithm is kept.
    """
    supported = supported or {query: options[var] for _key, var, query in SSHD_ALGORITHMS}
    settings = dict(SSHD_FIXED)
    settings["Port"] = str(options["base_sshd_port"])
    for key, var, query in SSHD_ALGORITHMS:
        settings[key] = ",".join(name for name in options[var] if name in supported.get(query, []))
    settings["ClientAliveInterval"] = str(options["base_sshd_client_alive_interval"])
    settings["ClientAliveCountMax"] = str(options["base_sshd_client_alive_count_max"])
    settings["LoginGraceTime"] = str(options["base_sshd_login_grace_time"])
    settings["MaxAuthTries"] = str(options["base_sshd_max_auth_tries"])
    settings["AllowTcpForwarding"] = "yes" if options["base_sshd_allow_tcp_forwarding"] else "no"
    settings["AllowAgentForwarding"] = "yes" if options["base_sshd_allow_agent_forwarding"] else "no"
    return settings


def algorithm_problems(settings, options):
    return [
        f"{var}: none of {_json(options[var])} is supported by this host's OpenSSH (see 'ssh -Q {query}')."
        for key, var, query in SSHD_ALGORITHMS
        if settings[key] == ""
    ]


def derive(model, inspection):
    """The values the templates and the decisions share."""
    os_release = inspection.get("os") or {}
    probe = inspection.get("probe") or {}
    container = os_release.get("container")
    clock_control = host_allows(model["base_timesync_clock_control"], container)
    path, link = locale_file(os_release)
    templates = ["locale", "journald", "sysctl", "unattended_upgrades", "sudoers", "sshd"]
    if model["base_timesync"] == "chrony":
        templates += ["chrony_conf", "chrony_default"] + ([] if clock_control else ["chrony_unit"])
    elif model["base_timesync"] == "timesyncd":
        templates.append("timesyncd")
    return {
        "os": {key: os_release.get(key, "") for key in ("id", "name", "version_id", "codename", "version")},
        "container": container not in (None, "", "none"),
        "clock_control": clock_control,
        "sysctl_apply": host_allows(model["base_sysctl_apply"], container),
        "leapseclist": release_major(os_release) >= 13,
        "locale_file": path,
        "locale_link": link,
        "sysctl": sysctl_lines(sysctl_settings(model["base_sysctl_forwarding"], model["base_sysctl_extra"])),
        "sshd_settings": sshd_settings(probe.get("ssh_algorithms"), model),
        "users_present": model["users_present"],
        "templates": {name: TEMPLATES[name] for name in templates},
    }


# --- files ------------------------------------------------------------------------------


def _spec(path, template, mode="0644", state=None):
    return {
        "path": path,
        "state": state or "present",
        "template": template,
        "owner": "root",
        "group": "root",
        "mode": mode,
    }


def file_specs(model, derived):
    """The files of each group, each naming its template; the unused time daemon's group is empty."""
    timesync = model["base_timesync"]
    return {
        "system": [
            _spec(derived["locale_file"], "locale"),
            _spec(JOURNALD, "journald"),
            _spec(SYSCTL, "sysctl"),
            _spec(UNATTENDED, "unattended_upgrades"),
        ],
        "sudoers": [_spec(SUDOERS, "sudoers", mode="0440")],
        "chrony": [
            _spec(CHRONY_CONF, "chrony_conf"),
            # Without clock control chronyd runs with -x: it tracks and serves time but never
            # sets the clock (in a container the kernel clock belongs to the host).
            _spec(CHRONY_DEFAULT, "chrony_default"),
            # Debian's chrony.service only starts with CAP_SYS_TIME, which -x does not need.
            _spec(CHRONY_UNIT_DROPIN, "chrony_unit", state="absent" if derived["clock_control"] else None),
        ]
        if timesync == "chrony"
        else [],
        "timesyncd": [_spec(TIMESYNCD, "timesyncd")] if timesync == "timesyncd" else [],
        "sshd": [_spec(SSHD_DROPIN, "sshd")],
    }


def fill(specs, rendered):
    """The specs with their contents (``rendered``: {template name: text}); an absent file has none."""
    files = {}
    for group in GROUPS:
        files[group] = []
        for spec in specs.get(group) or []:
            filled = {key: value for key, value in spec.items() if key != "template"}
            filled["content"] = None if filled.get("state") == "absent" else rendered[spec["template"]]
            files[group].append(filled)
    return files


def conflict_pattern(settings):
    """A non-comment line in another drop-in that sets a managed keyword to a different value
    (keywords and yes/no are case-insensitive for sshd)."""
    conflicts = dict(settings)
    conflicts.update({alias: settings[key] for alias, key in SSHD_ALIASES.items()})
    alternatives = "|".join(
        f"{key}[ \\t=]+(?!{re.escape(value)}[ \\t]*$)" for key, value in conflicts.items()
    )
    return re.compile(f"(?i)^([ \\t]*(?:{alternatives}).*)$", re.MULTILINE)


def neutralised(dropins, settings, dropin_path=SSHD_DROPIN):
    """The other drop-ins with the lines that contradict ours commented out (only those that change).
    ``dropins``: {path: {"content": text or None, "file": file state}} from the probe."""
    pattern = conflict_pattern(settings)
    replacement = f"# Disabled by {MARKER} (contradicts {posixpath.basename(dropin_path)}): \\1"
    out = []
    for path, now in sorted((dropins or {}).items()):
        content = (now or {}).get("content")
        state = (now or {}).get("file") or {}
        if path == dropin_path or not isinstance(content, str) or state.get("state") != "file":
            continue
        new = pattern.sub(replacement, content)
        if new != content:
            out.append(
                {
                    "path": path,
                    "state": "present",
                    "content": new,
                    "owner": state["owner"],
                    "group": state["group"],
                    "mode": state["mode"],
                }
            )
    return out


# --- users ------------------------------------------------------------------------------


def _key_words(lines):
    return [" ".join(line.split()) for line in lines]


def user_changes(model, users_now, check_mode=False):
    """What changes for the admin users: the Change list and the users each task handles."""
    users_now = users_now or {}
    changes = []
    create, keys, clear, remove = [], [], [], []
    for user in model["users_present"]:
        name = user["name"]
        now = users_now.get(name)
        if now is None:
            changes.append(Change("user", name, "does not exist"))
            create.append(user)
        elif (
            now["shell"] != user["shell"]
            or now["gecos"] != user["comment"]
            or not now["home_exists"]
            or [group for group in user["groups"] if group not in now["groups"]]
        ):
            changes.append(Change("user", name, "shell, comment, home or groups differ"))
            create.append(user)
        current = (now or {}).get("authorized_keys")
        if user["ssh_keys"]:
            content = (current or {}).get("content")
            current_keys = _key_words(content.splitlines()) if isinstance(content, str) else None
            if current_keys != _key_words(user["ssh_keys"]):
                changes.append(Change("keys", name, "authorized keys differ"))
                # In check mode a user that is still to be created has no home to look into.
                if not (check_mode and now is None):
                    keys.append(user)
        elif current:
            changes.append(Change("keys", name, "authorized keys present, but no ssh_keys given"))
            clear.append(user)
    for user in model["users_absent"]:
        if users_now.get(user["name"]):
            changes.append(Change("user", user["name"], "marked absent"))
            remove.append(user)
    return changes, {"create": create, "authorize": keys, "clear_keys": clear, "remove": remove}


# --- the plan on one host ---------------------------------------------------------------


def sshd_validate(settings):
    """The checker of the sshd transaction: ``sshd -t``, then the candidate's ``sshd -T`` against
    ``settings`` (plugin_utils/_sshd_config_mismatches.py, run on the host by python3)."""
    return ["/usr/bin/python3", "-c", SSHD_CHECK_SOURCE, json.dumps(settings, sort_keys=True), SSHD_DROPIN]


def host_problems(model, derived, inspection, sshd_pending):
    """What stops the role before it changes anything."""
    problems = []
    release = release_problem("base", inspection.get("os") or {})
    if release:
        problems.append(release)
    elif model["base_timesync"] == "timesyncd" and not derived["clock_control"]:
        who = "this container may not do" if derived["container"] else "base_timesync_clock_control forbids"
        problems.append(
            f"base_timesync: 'timesyncd' can only synchronise time by setting the clock, which {who}."
            " Use 'chrony', which tracks and serves time without touching the clock."
        )
    problems.extend(algorithm_problems(derived["sshd_settings"], model))
    # The effective configuration is checked here when no sshd file changes; a change is
    # checked by its own transaction (sshd_validate) before sshd reloads.
    sshd = (inspection.get("probe") or {}).get("sshd") or {}
    if not sshd_pending:
        if isinstance(sshd.get("output"), str):
            mismatches = sshd_config_mismatches(sshd["output"], derived["sshd_settings"])
            if mismatches:
                problems.append(mismatch_message(mismatches, SSHD_DROPIN))
        elif sshd.get("installed"):
            problems.append(
                f"The effective sshd configuration could not be read ('sshd -T'): {sshd.get('error')}"
            )
    return problems


def _localtime_zone(link):
    return re.sub(r"^.*/zoneinfo/", "", link or "")


def decide(model, inspection, derived, rendered, check_mode=False):
    """The plan of one host: ``derived`` from derive(), ``rendered`` the templates' texts."""
    probe = inspection.get("probe") or {}
    plan = Plan()
    files = fill(file_specs(model, derived), rendered)
    files["sshd"] += neutralised(probe.get("sshd_dropins"), derived["sshd_settings"])

    wanted = packages(model)
    states = inspection.get("packages") or {}
    # dpkg reports by name: an entry with '=version' or ':arch' counts as missing (apt decides).
    missing = missing_packages(wanted, states)
    plan.extend(package_changes(wanted, states))
    pending = missing if check_mode else []

    steps = []
    if missing:
        # apt's check mode needs python3-apt; on a fresh host the plan's summary reports instead.
        steps.append("packages_report" if check_mode and "python3-apt" in missing else "packages")

    name = model["base_hostname"]
    hostname = probe.get("hostname") or {}
    if name and (name != hostname.get("current") or name != hostname.get("static")):
        plan.add("hostname", name, f"is {hostname.get('current')!r} (static {hostname.get('static')!r})")
        steps.append("hostname")
    zone = _localtime_zone(probe.get("localtime"))
    if zone != model["base_timezone"]:
        plan.add("timezone", model["base_timezone"], f"is {zone or 'not set'}")
        if "tzdata" not in pending:
            steps.append("timezone")
    locale = model["base_locale"]
    if needs_locales(locale) and re.sub(r"(?i)\.utf-?8", ".utf8", locale) not in (probe.get("locales") or []):
        plan.add("locale", locale, "not generated")
        if "locales" not in pending:
            steps.append("locale")

    observed = dict(inspection.get("files") or {})
    for path, dropin in (probe.get("sshd_dropins") or {}).items():
        observed.setdefault(path, (dropin or {}).get("file"))
    write = []
    for group in GROUPS:
        changes = file_changes(files[group], observed)
        if changes:
            plan.extend(changes)
            write.append(group)
    if derived["locale_link"]:
        link = {"path": LOCALE_DEFAULT, "state": "link", "src": LOCALE_LINK_TARGET}
        changes = file_changes([link], observed)
        if changes:
            plan.extend([Change("link", LOCALE_DEFAULT, f"not a link to {LOCALE_LINK_TARGET}")])
            steps.append("locale_link")
    chrony_unit_changed = any(change.target == CHRONY_UNIT_DROPIN for change in plan.changes)
    # journald reads its drop-in only when it starts: the system files' transaction restarts it
    # (and takes the files back if it does not come up) only when that file changes.
    journald_changed = any(change.target == JOURNALD for change in plan.changes)

    units = inspection.get("units") or {}
    wanted_units = [
        *([TIMESYNC_UNITS[model["base_timesync"]]] if model["base_timesync"] in TIMESYNC_UNITS else []),
        SSH_UNIT,
        *(APT_TIMERS if model["base_unattended_upgrades"] else []),
    ]
    start = []
    for unit in wanted_units:
        changes = unit_changes(unit, units.get(unit))
        if changes:
            plan.extend(changes)
            start.append(unit)

    changes, users = user_changes(model, probe.get("users"), check_mode)
    plan.extend(changes)

    sshd_pending = "sshd" in write
    plan.problems.extend(host_problems(model, derived, inspection, sshd_pending))

    # The sudo rules and the system files: one transaction (one module run) with both checkers.
    if any(group in write for group in SYSTEM_GROUPS):
        steps.append("system_files")
    timesync = model["base_timesync"]
    timesync_package = (TIMESYNC_PACKAGES[timesync] or [None])[0]
    if timesync in TIMESYNC_UNITS and timesync_package not in pending:
        if timesync in write:
            steps.append(f"{timesync}_files")
        if TIMESYNC_UNITS[timesync] in start or (timesync == "chrony" and chrony_unit_changed):
            steps.append(f"{timesync}_start")
    if "openssh-server" not in pending:
        if SSH_UNIT in start:
            steps.append("ssh_start")
        if sshd_pending:
            steps.append("sshd_files")
    timers = [unit for unit in start if unit in APT_TIMERS]

    plan.data = {
        "packages": wanted,
        "packages_missing": missing,
        "steps": steps,
        "files": files,
        "write": write,
        "chrony_daemon_reload": chrony_unit_changed,
        "sshd_validate": sshd_validate(derived["sshd_settings"]) if sshd_pending else [],
        # The system files' transaction restarts journald when its drop-in changes.
        "system_files": [spec for group in SYSTEM_GROUPS for spec in files[group]],
        "system_validate": SYSTEM_VALIDATE,
        "system_service": JOURNALD_UNIT if journald_changed else None,
        "system_activate": "restart" if journald_changed else "none",
        "timers": timers,
        "users": users,
        "sysctl_apply": derived["sysctl_apply"],
        "paths": {"sysctl": SYSCTL, "sshd_dropin": SSHD_DROPIN},
    }
    return plan
