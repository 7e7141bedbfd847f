# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What groundwork.server.nginx needs to know about the host, beyond the generic probes.

Runs on the managed host inside the shared probe (plugin_utils/_host_probe.py), which
passes its generic helpers as ``core``. Standard library only, read-only.

args: {"names": [certificate names], "certificate_dir", "hook_dir", "consumer",
       "placeholder", "acme_specs_dir", "renew_unit", "pid_file"}

Answer: the nginx version (it decides the HTTP/2 syntax), CPUs, memory and the open-file
limit (connection limits), the OCSP responder of each certificate (stapling only where
there is one), the name servers, the renewal hooks nginx registered (stale ones are
removed), the ACME certificates still waiting for their real certificate and whether the
renewal service is installed.
"""

import glob
import json
import os

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


def ocsp_uri(core, path):
    if not os.path.exists(path):
        return ""
    done = core.run(["/usr/bin/openssl", "x509", "-noout", "-ocsp_uri", "-in", path])
    return done.stdout.strip() if done is not None and done.returncode == 0 else ""


def acme_pending(core, args, name):
    """An ACME certificate of groundwork.server.tls still waiting for its real certificate: a
    self-signed placeholder, or names that differ from the renewal spec (new names can only
    be validated once nginx serves them)."""
    directory = os.path.join(args["certificate_dir"], name)
    if os.path.exists(os.path.join(directory, args["placeholder"])):
        return True
    try:
        spec = json.loads(core.read(os.path.join(args["acme_specs_dir"], f"{name}.json")) or "")
        domains = {domain.lower() for domain in spec["domains"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        return False  # not an ACME certificate
    san = core.run(
        [
            "/usr/bin/openssl",
            "x509",
            "-noout",
            "-ext",
            "subjectAltName",
            "-in",
            os.path.join(directory, "cert.pem"),
        ]
    )
    if san is None or san.returncode != 0:
        return True
    names = {
        entry.strip()[4:].lower()
        for entry in san.stdout.replace("\n", ",").split(",")
        if entry.strip().startswith("DNS:")
    }
    return names != domains


def inspect(args, core):
    names = list(args.get("names") or [])
    certificate_dir = args["certificate_dir"]
    return {
        "version": version(core),
        "cpus": core.cpus(),
        "memory_kb": core.memory_kb(),
        "nofile_limit": nofile_limit(core, args.get("pid_file") or "/run/nginx.pid"),
        "ocsp": {
            name: ocsp_uri(core, os.path.join(certificate_dir, name, "fullchain.pem")) for name in names
        },
        "resolvers": core.resolvers(),
        "hooks": sorted(glob.glob(os.path.join(args["hook_dir"], "*.d", args["consumer"]))),
        "acme_pending": [name for name in names if acme_pending(core, args, name)],
        "renew_service": os.path.exists(os.path.join("/etc/systemd/system", args["renew_unit"])),
    }
