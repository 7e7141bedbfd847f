# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The logic of the base_plan filter (plugins/filter/base_plan.py documents it): what
groundwork.server.base changes on a host, decided on the controller from what the role's
inspection read (roles/base/files/inspect.py): files, admin users and keys, sshd drop-ins,
units, packages.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._base_plan import base_plan
"""

from __future__ import annotations

import json
import re

from ansible_collections.groundwork.server.plugins.plugin_utils._sshd_config_mismatches import (
    sshd_config_mismatches,
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
}
SSHD_ALGORITHMS = (
    ("KexAlgorithms", "base_sshd_kex_algorithms", "kex"),
    ("Ciphers", "base_sshd_ciphers", "cipher"),
    ("MACs", "base_sshd_macs", "mac"),
    ("HostKeyAlgorithms", "base_sshd_host_key_algorithms", "key-sig"),
)
SSHD_ALIASES = {"ChallengeResponseAuthentication": "KbdInteractiveAuthentication"}
MARKER = "groundwork.server.base"


def _json(value):
    return json.dumps(value)


# --- sshd -------------------------------------------------------------------------------


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


def conflict_pattern(settings):
    """A non-comment line in another drop-in that sets a managed keyword to a different value
    (keywords and yes/no are case-insensitive for sshd)."""
    conflicts = dict(settings)
    conflicts.update({alias: settings[key] for alias, key in SSHD_ALIASES.items()})
    alternatives = "|".join(
        f"{key}[ \\t=]+(?!{re.escape(value)}[ \\t]*$)" for key, value in conflicts.items()
    )
    return re.compile(f"(?i)^([ \\t]*(?:{alternatives}).*)$", re.MULTILINE)


def neutralised(dropins, dropin_path, settings):
    """The other drop-ins with the lines that contradict ours commented out (only those that change)."""
    pattern = conflict_pattern(settings)
    replacement = f"# Disabled by {MARKER} (contradicts {dropin_path.rsplit('/', 1)[-1]}): \\1"
    out = []
    for path, now in sorted(dropins.items()):
        if path == dropin_path or not isinstance((now or {}).get("content"), str):
            continue
        new = pattern.sub(replacement, now["content"])
        if new != now["content"]:
            out.append(
                {
                    "path": path,
                    "content": new,
                    "owner": now["owner"],
                    "group": now["group"],
                    "mode": now["mode"],
                }
            )
    return out


# --- the plan on one host ---------------------------------------------------------------


def _differs(spec, now):
    if spec.get("state", "present") == "absent":
        return now is not None
    return (
        now is None
        or "content" not in now
        or now["content"] != spec["content"]
        or now.get("owner") != spec["owner"]
        or now.get("group") != spec["group"]
        or now.get("mode") != spec["mode"]
    )


def _keys_text(lines):
    return [" ".join(line.split()) for line in lines]


GROUPS = ("system", "sudoers", "chrony", "timesyncd", "sshd")
# Debian 13: /etc/default/locale is a link to systemd's /etc/locale.conf.
LOCALE_LINK = "/etc/default/locale"
LOCALE_TARGET = "../locale.conf"


def fill(specs, rendered, timesync):
    """The file specs of each group with their contents: a spec names its template (``template``),
    whose rendered text ``rendered`` holds; an absent file has none. The group of the time
    daemon that is not used stays empty."""
    files = {}
    for group in GROUPS:
        files[group] = []
        if group in ("chrony", "timesyncd") and group != timesync:
            continue
        for spec in specs.get(group) or []:
            filled = {key: value for key, value in spec.items() if key != "template"}
            if filled.get("state", "present") == "absent":
                filled["content"] = None
            else:
                filled["content"] = rendered[spec["template"]]
            files[group].append(filled)
    return files


def plan(host, model_, files, settings, options):
    """What changes on this host.

    ``files``: fill()'s file specs by group; ``settings``: sshd_settings(); ``options``: the
    role's variables the decisions read, plus ``packages_missing`` and ``unit_ok`` (the
    units enabled and running).
    """
    sshd_dropin = files["sshd"][0]
    applicable = files["system"] + files["sudoers"] + files["chrony"] + files["timesyncd"]
    files_sshd = [sshd_dropin, *neutralised(host["sshd_dropins"], sshd_dropin["path"], settings)]
    changed = []
    for spec in applicable + files_sshd:
        path = spec["path"]
        now = host["files"][path] if path in host["files"] else host["sshd_dropins"].get(path)
        if _differs(spec, now):
            changed.append(path)
    users_now = host["users"]
    users = []
    for user in model_["users_present"]:
        now = users_now.get(user["name"])
        if (
            now is None
            or now["shell"] != user["shell"]
            or now["gecos"] != user["comment"]
            or not now["home_exists"]
            or [group for group in user["groups"] if group not in now["groups"]]
        ):
            users.append(user["name"])
    keys = []
    for user in model_["users_present"]:
        if not user["ssh_keys"]:
            continue
        now = users_now.get(user["name"])
        current = now["authorized_keys"] if now is not None else None
        if (
            current is None
            or not isinstance(current.get("content"), str)
            or _keys_text(current["content"].splitlines()) != _keys_text(user["ssh_keys"])
        ):
            keys.append(user["name"])
    stale_keys = [
        user["name"]
        for user in model_["users_present"]
        if not user["ssh_keys"]
        and users_now.get(user["name"])
        and users_now[user["name"]].get("authorized_keys")
    ]
    gone = [user["name"] for user in model_["users_absent"] if users_now.get(user["name"])]
    algorithm_problems = [
        f"{var}: none of {_json(options[var])} is supported by this host's OpenSSH (see 'ssh -Q {query}')."
        for key, var, query in SSHD_ALGORITHMS
        if settings[key] == ""
    ]

    todo = []
    missing = options["packages_missing"]
    if missing:
        todo.append("packages: " + " ".join(missing))
    name = options["base_hostname"]
    if name and (name != host["hostname"]["current"] or name != host["hostname"]["static"]):
        todo.append("host name")
    if re.sub(r"^.*/zoneinfo/", "", host.get("localtime") or "") != options["base_timezone"]:
        todo.append("time zone")
    locale = options["base_locale"]
    if (
        locale not in options["builtin_locales"]
        and re.sub(r"(?i)\.utf-?8", ".utf8", locale) not in host["locales"]
    ):
        todo.append(f"locale {locale}")
    if changed:
        todo.append("files: " + " ".join(changed))
    if options.get("locale_link") and host["files"].get(LOCALE_LINK) != {"link": LOCALE_TARGET}:
        todo.append(f"link {LOCALE_LINK} to {LOCALE_TARGET}")
    units = (
        (["chrony.service"] if options["base_timesync"] == "chrony" else [])
        + (["systemd-timesyncd.service"] if options["base_timesync"] == "timesyncd" else [])
        + ["ssh.service"]
        + (list(options["apt_timers"]) if options["base_unattended_upgrades"] else [])
    )
    stopped = [unit for unit in units if unit not in options["unit_ok"]]
    if stopped:
        todo.append("units not enabled and running: " + " ".join(stopped))
    if users:
        todo.append("users: " + " ".join(users))
    if keys:
        todo.append("SSH keys of " + " ".join(keys))
    if stale_keys:
        todo.append("authorized keys to remove: " + " ".join(stale_keys))
    if gone:
        todo.append("users to remove: " + " ".join(gone))
    effective = host.get("sshd_effective")
    if not isinstance(effective, str):
        # sshd -T failed (or OpenSSH is missing): apply.yml installs, writes and reads it again.
        todo.append("the effective sshd configuration could not be read")
    return {
        "files": files,
        "files_sshd": files_sshd,
        "changed": changed,
        "sshd_changes": [spec["path"] for spec in files_sshd if spec["path"] in changed],
        "users": users,
        "key_updates": keys,
        "algorithm_problems": algorithm_problems,
        "sshd_mismatches": sshd_config_mismatches(effective, settings)
        if isinstance(effective, str)
        else None,
        "todo": todo,
    }


def base_plan(host, model=None, specs=None, rendered=None, settings=None, options=None, sshd=False):
    """The plan (see plan()), or with ``sshd`` the sshd settings for what ``ssh -Q`` printed (``host``)."""
    if sshd:
        return sshd_settings(host, options)
    return plan(host, model, fill(specs or {}, rendered or {}, options["base_timesync"]), settings, options)
