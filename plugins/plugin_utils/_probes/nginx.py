# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What groundwork.server.nginx needs to know about the host, beyond the generic probes.

Runs on the managed host inside the shared probe (plugin_utils/_host_probe.py), which
passes its generic helpers as ``core`` (certificate_facts: what the web servers share about
the certificates they serve). Standard library only, read-only.

args: {"names": [certificate names], "certificate_dir", "hook_dir", "consumer",
       "placeholder", "acme_specs_dir", "renew_unit", "pid_file",
       "raw": [{"where", "key", "context": "server" | "location", "lines": [...]}],
       "raw_stubs": [http-level lines the raw directives may refer to]}

Answer: the nginx version (it decides the HTTP/2 syntax), CPUs, memory and the open-file
limit (connection limits), the OCSP responder of each certificate (stapling only where
there is one), the name servers, the renewal hooks nginx registered (stale ones are
removed), the ACME certificates still waiting for their real certificate and whether the
renewal service is installed. And the raw directives of the sites (raw_nginx), each set
checked by the installed nginx (``nginx -t``) in a scratch configuration: a server block (and
a location in it) inside a minimal http block that loads the host's dynamic modules; the
scratch directory is removed. ``raw_errors``: [{"where", "key", "error"}], or None when nginx
is not installed (nothing to check against yet).
"""

import os
import shutil
import tempfile

SYSTEMD_DEFAULT_NOFILE = 524288
NGINX = "/usr/sbin/nginx"
MODULES = "/etc/nginx/modules-enabled/*.conf"


def version(core):
    done = core.run(["/usr/sbin/nginx", "-v"])
    if done is None or done.returncode != 0:
        return None
    return done.stderr.strip().rsplit("/", 1)[-1] or None


def nofile_limit(core, pid_file):
    """Workers may raise their soft limit up to the hard one: that of the running master, or
    else what systemd gives a service (its default 524288, capped by its own limit)."""
    master = (core.read(pid_file) or "").strip()
    limit = core.hard_nofile(master) if master.isdigit() else None
    if limit is None:
        limit = min(SYSTEMD_DEFAULT_NOFILE, core.hard_nofile(1) or SYSTEMD_DEFAULT_NOFILE)
    return limit


def raw_config(directory, snippet, stubs):
    """A scratch nginx.conf holding one set of raw directives: (text, number of the line of
    the first directive)."""
    lines = [
        f"include {MODULES};",
        f"pid {directory}/nginx.pid;",
        f"error_log {directory}/error.log;",
        "events {}",
        "http {",
        "    access_log off;",
        *(f"    {stub}" for stub in stubs),
        "    server {",
        "        listen 127.0.0.1:80;",
        "        server_name raw-check.invalid;",
    ]
    location = snippet.get("context") == "location"
    if location:
        lines.append("        location / {")
    first = len(lines) + 1
    lines += [f"            {line}" for line in snippet.get("lines") or []]
    if location:
        lines.append("        }")
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n", first


def raw_message(output, path, first, count):
    """nginx's complaint, with the scratch file's line as the line of the raw directives."""
    lines = [line for line in (output or "").splitlines() if line.strip()]
    chosen = next(
        (line for line in lines if "[emerg]" in line or "[alert]" in line), lines[0] if lines else ""
    )
    text = chosen.split("] ", 1)[-1] if "] " in chosen else chosen
    marker = f" in {path}:"
    if marker in text:
        text, _sep, number = text.rpartition(marker)
        if number.strip().isdigit() and first <= int(number) < first + count:
            text += f" (line {int(number) - first + 1} of them)"
    return text.strip() or "nginx -t failed"


def named_paths(snippets):
    """The absolute paths the raw directives name (a log, a temporary directory, ...)."""
    found = set()
    for snippet in snippets:
        for line in snippet.get("lines") or []:
            for word in line.replace(";", " ").split():
                word = word.strip("'\"")
                if word.startswith("/") and ".." not in word.split("/"):
                    found.add(word)
    return sorted(found)


def remove_created(paths):
    """What nginx -t made of the named paths that were not there before: it opens every log
    file and creates the temporary directories it is given. Empty files and directories are
    removed again (nothing else can have been made by a configuration test)."""
    for path in paths:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)  # only when empty
            elif os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) == 0:
                os.unlink(path)
        except OSError:
            pass


def raw_errors(args, core):
    """The raw directive sets the installed nginx refuses (see the module's documentation)."""
    snippets = args.get("raw") or []
    if not snippets:
        return []
    if not os.path.exists(NGINX):
        return None
    absent = [path for path in named_paths(snippets) if not os.path.lexists(path)]
    directory = tempfile.mkdtemp(prefix="groundwork-nginx-raw-")
    found = []
    try:
        path = os.path.join(directory, "nginx.conf")
        for snippet in snippets:
            text, first = raw_config(directory, snippet, args.get("raw_stubs") or [])
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            done = core.run(
                [NGINX, "-t", "-q", "-p", directory + "/", "-e", directory + "/error.log", "-c", path]
            )
            if done is None:
                return None
            if done.returncode != 0:
                error = raw_message(done.stderr or done.stdout, path, first, len(snippet.get("lines") or []))
                found.append({"where": snippet.get("where"), "key": snippet.get("key"), "error": error})
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        remove_created(absent)
    return found


def inspect(args, core):
    return {
        "version": version(core),
        "cpus": core.cpus(),
        "memory_kb": core.memory_kb(),
        "nofile_limit": nofile_limit(core, args.get("pid_file") or "/run/nginx.pid"),
        "resolvers": core.resolvers(),
        "raw_errors": raw_errors(args, core),
        **core.certificate_facts(args),
    }
