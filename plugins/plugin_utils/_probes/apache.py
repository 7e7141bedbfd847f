# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What groundwork.server.apache needs to know about the host, beyond the generic probes.

Runs on the managed host inside the shared probe (plugin_utils/_host_probe.py), which
passes its generic helpers as ``core`` (certificate_facts: what the web servers share about
the certificates they serve). Standard library only, read-only.

args: {"names": [certificate names], "certificate_dir", "hook_dir", "consumer",
       "placeholder", "acme_specs_dir", "renew_unit", "mods_available", "mods_enabled"}

Answer: the Apache version, CPUs and memory (the event MPM's size), the modules Debian
ships in mods-available with the modules each depends on ("# Depends:" of its .load) and
whether it has a .conf (None when Apache is not installed), the entries of mods-enabled
with their link targets, and the certificate facts.
"""

import os


def version(core):
    done = core.run(["/usr/sbin/apache2", "-v"])
    if done is None or done.returncode != 0:
        return None
    first = (done.stdout.splitlines() or [""])[0]
    return first.split("/", 1)[-1].split()[0] if "/" in first else None


def modules(directory):
    """{module: {"depends": [...], "conf": bool}} of mods-available; None without it."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return None
    found = {}
    for name in names:
        if not name.endswith(".load"):
            continue
        module = name[: -len(".load")]
        depends = []
        try:
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.startswith("# Depends:"):
                        depends = line.split(":", 1)[1].split()
        except OSError:
            continue
        found[module] = {"depends": depends, "conf": f"{module}.conf" in names}
    return found


def enabled(directory):
    """{entry: link target, or None for what is not a link} of mods-enabled."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return {}
    found = {}
    for name in names:
        path = os.path.join(directory, name)
        found[name] = os.readlink(path) if os.path.islink(path) else None
    return found


def inspect(args, core):
    return {
        "version": version(core),
        "cpus": core.cpus(),
        "memory_kb": core.memory_kb(),
        "modules": modules(args.get("mods_available") or "/etc/apache2/mods-available"),
        "enabled": enabled(args.get("mods_enabled") or "/etc/apache2/mods-enabled"),
        **core.certificate_facts(args),
    }
