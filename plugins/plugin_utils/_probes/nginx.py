# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What groundwork.server.nginx needs to know about the host, beyond the generic probes.

Runs on the managed host inside the shared probe (plugin_utils/_host_probe.py), which
passes its generic helpers as ``core`` (certificate_facts: what the web servers share about
the certificates they serve). Standard library only, read-only.

args: {"names": [certificate names], "certificate_dir", "hook_dir", "consumer",
       "placeholder", "acme_specs_dir", "renew_unit", "pid_file"}

Answer: the nginx version (it decides the HTTP/2 syntax), CPUs, memory and the open-file
limit (connection limits), the OCSP responder of each certificate (stapling only where
there is one), the name servers, the renewal hooks nginx registered (stale ones are
removed), the ACME certificates still waiting for their real certificate and whether the
renewal service is installed.
"""

SYSTEMD_DEFAULT_NOFILE = 524288


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


def inspect(args, core):
    return {
        "version": version(core),
        "cpus": core.cpus(),
        "memory_kb": core.memory_kb(),
        "nofile_limit": nofile_limit(core, args.get("pid_file") or "/run/nginx.pid"),
        "resolvers": core.resolvers(),
        **core.certificate_facts(args),
    }
