# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What groundwork.server.apache needs to know about the host, beyond the generic probes.

Runs on the managed host inside the shared probe (plugin_utils/_host_probe.py), which
passes its generic helpers as ``core`` (certificate_facts: what the web servers share about
the certificates they serve). Standard library only, read-only.

args: {"names": [certificate names], "certificate_dir", "hook_dir", "consumer",
       "placeholder", "acme_specs_dir", "renew_unit", "mods_available", "mods_enabled",
       "raw": [{"where", "key", "context": "server" | "location", "lines": [...]}],
       "raw_modules": [the modules the configuration loads]}

Answer: the Apache version, CPUs and memory (the event MPM's size), the modules Debian
ships in mods-available with the modules each depends on ("# Depends:" of its .load) and
whether it has a .conf (None when Apache is not installed), the entries of mods-enabled
with their link targets, and the certificate facts. And the raw directives of the sites
(raw_apache), each set checked by the installed Apache (``apache2 -t``) in a scratch
configuration: a virtual host (and a LocationMatch in it) with the modules the role's
configuration loads; the scratch directory is removed. ``raw_errors``: [{"where", "key",
"error"}], or None when Apache is not installed (nothing to check against yet).
"""

import os
import shutil
import tempfile

APACHE = "/usr/sbin/apache2"
ENVVARS = "/etc/apache2/envvars"
# Debian's apache2 reads its run-time paths from envvars: sourced, then apache2 -t.
CHECK = '. "$1" >/dev/null 2>&1; exec "$2" -t -d /etc/apache2 -f "$3"'


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


def load_order(wanted, available):
    """The modules ``wanted`` with their dependencies (Depends: of mods-available), each
    after the ones it depends on; unknown modules are left out."""
    ordered, seen = [], set()

    def visit(name):
        if name in seen or name not in available:
            return
        seen.add(name)
        for dependency in available[name].get("depends") or []:
            visit(dependency)
        ordered.append(name)

    for name in wanted:
        visit(name)
    return ordered


def raw_config(directory, snippet, modules, mods_available):
    """A scratch apache2.conf holding one set of raw directives: (text, number of the line of
    the first directive)."""
    lines = [
        f'PidFile "{directory}/apache2.pid"',
        f'ErrorLog "{directory}/error.log"',
        f'DefaultRuntimeDir "{directory}"',
        *(f'Include "{mods_available}/{name}.load"' for name in modules),
        "Listen 127.0.0.1:80",
        "<VirtualHost *:80>",
        "    ServerName raw-check.invalid",
    ]
    location = snippet.get("context") == "location"
    if location:
        lines.append('    <LocationMatch "^/">')
    first = len(lines) + 1
    lines += [f"        {line}" for line in snippet.get("lines") or []]
    if location:
        lines.append("    </LocationMatch>")
    lines.append("</VirtualHost>")
    return "\n".join(lines) + "\n", first


def raw_message(output, path, first, count):
    """Apache's complaint, with the scratch file's line as the line of the raw directives."""
    lines = [line.strip() for line in (output or "").splitlines() if line.strip()]
    for index, line in enumerate(lines):
        marker = f" of {path}"
        if "Syntax error on line " in line and marker in line:
            number = line.split("Syntax error on line ", 1)[1].split(" ", 1)[0]
            detail = lines[index + 1] if index + 1 < len(lines) else ""
            if number.isdigit() and first <= int(number) < first + count:
                return f"{detail} (line {int(number) - first + 1} of them)".strip()
            return detail or line
    return lines[0] if lines else "apache2 -t failed"


def raw_errors(args, core):
    """The raw directive sets the installed Apache refuses (see the module's documentation)."""
    snippets = args.get("raw") or []
    if not snippets:
        return []
    mods_available = args.get("mods_available") or "/etc/apache2/mods-available"
    available = modules(mods_available)
    if not os.path.exists(APACHE) or available is None:
        return None
    order = load_order(args.get("raw_modules") or [], available)
    directory = tempfile.mkdtemp(prefix="groundwork-apache-raw-")
    found = []
    try:
        path = os.path.join(directory, "apache2.conf")
        for snippet in snippets:
            text, first = raw_config(directory, snippet, order, mods_available)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            done = core.run(["/bin/sh", "-c", CHECK, "sh", ENVVARS, APACHE, path])
            if done is None:
                return None
            if done.returncode != 0:
                error = raw_message(done.stderr or done.stdout, path, first, len(snippet.get("lines") or []))
                found.append({"where": snippet.get("where"), "key": snippet.get("key"), "error": error})
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return found


def inspect(args, core):
    return {
        "version": version(core),
        "cpus": core.cpus(),
        "memory_kb": core.memory_kb(),
        "modules": modules(args.get("mods_available") or "/etc/apache2/mods-available"),
        "enabled": enabled(args.get("mods_enabled") or "/etc/apache2/mods-enabled"),
        "raw_errors": raw_errors(args, core),
        **core.certificate_facts(args),
    }
