# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The program groundwork.server.host_info runs on the managed host.

Not imported by the controller: the action plugin reads this file as text and sends it,
compressed, in the one command it runs on the host (``python3 -c <bootstrap> <this>
<request>``). It needs only the standard library, and only reads.

The request (argument 2: base64 of zlib-compressed JSON) is::

    {"files": [paths], "dirs": [paths], "packages": [names], "units": [names],
     "probes": {name: {"source": "<python source>", "args": <JSON>}},
     "program": "<python source>" | null, "argv": [str]}

and the answer, printed as one JSON object, is::

    {"os": {...}, "files": {path: state}, "dirs": {path: {name: kind}},
     "packages": {name: dpkg state}, "units": {unit: {"active", "enabled"}},
     "probes": {name: <what its inspect() returned>}, "info": <what the program printed>}

This file is the probe library every role shares: the generic probes (release, files,
directories, packages, units, CPUs, memory, name servers) live here, and a role's own
probe (plugin_utils/_probes/<role>.py) is a function ``inspect(args, core)`` that gets
them as ``core`` instead of copying them. Several roles' probes can be answered by one
command.

where a file state is ``{"state": "absent"}``, ``{"state": "link", "target": ...}``,
``{"state": "directory", "owner", "uid", "group", "gid", "mode"}``, ``{"state": "other"}``
(a socket, a device, ...) or ``{"state": "file", "sha256", "size", "owner", "uid", "group",
"gid", "mode"}``, and ``os`` is the release
(``id``, ``name``, ``version_id``, ``codename``, ``version``) and the ``container``
manager the host runs under (``none`` on a VM or real hardware). The program is a role's own inspection:
it runs in this process with ``sys.argv`` set to ``["program", *argv]`` and prints one
JSON document.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import grp
import hashlib
import io
import json
import os
import pwd
import re
import stat
import subprocess
import sys
import types
import zlib

NO_LIMIT = 2**60


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def file_state(path):
    """What service_config compares: the content's digest, owner, group and mode."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"state": "absent"}
    except OSError as exc:
        return {"state": "error", "error": exc.strerror or str(exc)}
    if stat.S_ISLNK(info.st_mode):
        return {"state": "link", "target": os.readlink(path)}
    if stat.S_ISDIR(info.st_mode):
        return {"state": "directory", **_attributes(info)}
    if not stat.S_ISREG(info.st_mode):
        return {"state": "other"}
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
    except OSError as exc:
        return {"state": "error", "error": exc.strerror or str(exc)}
    return {"state": "file", "sha256": digest.hexdigest(), "size": info.st_size, **_attributes(info)}


def _attributes(info):
    return {
        "owner": _name(pwd.getpwuid, info.st_uid),
        "uid": info.st_uid,
        "group": _name(grp.getgrgid, info.st_gid),
        "gid": info.st_gid,
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
    }


def _kind(path):
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "absent"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISREG(mode):
        return "file"
    return "dir" if stat.S_ISDIR(mode) else "other"


def dir_entries(path):
    """{name: kind} of a directory's entries (file, link, dir, other); empty when it does not exist."""
    try:
        names = os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return {name: _kind(os.path.join(path, name)) for name in sorted(names)}


def read(path, strip=False):
    """A text file's content (without surrounding white space with ``strip``), or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    return text.strip() if strip else text


def container():
    """The container manager the host runs under, or "none" (a VM or real hardware)."""
    # systemd as PID 1 writes what it detected at boot.
    detected = read("/run/systemd/container", strip=True)
    if detected:
        return detected
    if os.path.exists("/.dockerenv"):
        return "docker"
    if os.path.exists("/run/.containerenv"):
        return "podman"
    if os.path.isdir("/proc/vz") and not os.path.isdir("/proc/bc"):
        return "openvz"
    return "none"


def os_release():
    """The release (from /etc/os-release, the point release from /etc/debian_version)."""
    fields = {}
    text = read("/etc/os-release", strip=True) or read("/usr/lib/os-release", strip=True) or ""
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip("\"'")
    version_id = fields.get("VERSION_ID", "")
    point = read("/etc/debian_version", strip=True) if fields.get("ID") == "debian" else None
    return {
        "id": fields.get("ID", ""),
        "name": fields.get("NAME", ""),
        "version_id": version_id,
        "codename": fields.get("VERSION_CODENAME", ""),
        "version": point if point and point[:1].isdigit() else version_id or point or "",
        "container": container(),
    }


# --- Generic probes, shared by the roles' own probes (as ``core``) ----------------------


def run(argv):
    """Run a program by absolute path; None when it cannot be started."""
    try:
        # Fixed programs by absolute path: no shell, arguments from the request only.
        return subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError:
        return None


def packages(names):
    """{name: dpkg's status ("installed", "config-files", ... or "not-installed")}, one dpkg-query call."""
    states = dict.fromkeys(names, "not-installed")
    if not names:
        return states
    done = run(["/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names])
    for line in done.stdout.splitlines() if done else []:
        name, _sep, state = line.partition(" ")
        if name in states:
            states[name] = state
    return states


def units(names):
    """{unit: {"enabled": UnitFileState, "active": ActiveState}}, from one systemctl call."""
    states = {name: {"enabled": "unknown", "active": "unknown"} for name in names}
    if not names:
        return states
    done = run(["/usr/bin/systemctl", "show", "--property=UnitFileState,ActiveState", "--", *names])
    blocks = done.stdout.strip("\n").split("\n\n") if done else []
    if len(blocks) != len(names):
        return states
    for name, block in zip(names, blocks, strict=True):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        states[name] = {
            "enabled": values.get("UnitFileState") or "unknown",
            "active": values.get("ActiveState") or "unknown",
        }
    return states


def cpus():
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


def memory_kb():
    """MemTotal of /proc/meminfo in KiB, or None."""
    match = re.search(r"^MemTotal:\s+(\d+) kB", read("/proc/meminfo") or "", re.MULTILINE)
    return int(match.group(1)) if match else None


def _limit(path):
    text = (read(path) or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < NO_LIMIT else None


def cgroup_memory():
    """The smallest memory limit on the cgroup path of PID 1 (the container, if any), in
    bytes as text, or "max": cgroup v2, then v1. Walking up the path covers a private cgroup
    namespace (the limit at the root) and the host's namespace mounted into a container."""
    limits = []
    for line in (read("/proc/1/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1], parts[2]
        if controllers == "":
            base, name = "/sys/fs/cgroup", "memory.max"
        elif "memory" in controllers.split(","):
            base, name = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
        else:
            continue
        steps = [step for step in path.strip("/").split("/") if step]
        for depth in range(len(steps), -1, -1):
            limit = _limit(os.path.join(base, *steps[:depth], name))
            if limit is not None:
                limits.append(limit)
    return str(min(limits)) if limits else "max"


def hard_nofile(pid):
    """The hard open-file limit of a process, or None."""
    for line in (read(f"/proc/{pid}/limits") or "").splitlines():
        if line.startswith("Max open files"):
            fields = line.split()
            if len(fields) > 4 and fields[4].isdigit():
                return int(fields[4])
            return None
    return None


def resolvers():
    """The name servers of /etc/resolv.conf."""
    found = []
    for line in (read("/etc/resolv.conf") or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            found.append(fields[1])
    return found


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


def certificate_facts(args, core=None):
    """What a web server needs to know about the certificates of the tls role it serves
    (args: names, certificate_dir, hook_dir, consumer, placeholder, acme_specs_dir,
    renew_unit): the OCSP responder of each (stapling only where there is one), the renewal
    hooks the server registered (stale ones are removed), the ACME certificates still
    waiting for their real certificate, and whether the renewal service is installed."""
    core = core or CORE
    names = list(args.get("names") or [])
    certificate_dir = args["certificate_dir"]
    return {
        "ocsp": {
            name: ocsp_uri(core, os.path.join(certificate_dir, name, "fullchain.pem")) for name in names
        },
        "hooks": sorted(glob.glob(os.path.join(args["hook_dir"], "*.d", args["consumer"]))),
        "acme_pending": [name for name in names if acme_pending(core, args, name)],
        "renew_service": os.path.exists(os.path.join("/etc/systemd/system", args["renew_unit"])),
    }


CORE = types.SimpleNamespace(
    run=run,
    read=read,
    packages=packages,
    units=units,
    cpus=cpus,
    memory_kb=memory_kb,
    cgroup_memory=cgroup_memory,
    hard_nofile=hard_nofile,
    resolvers=resolvers,
    file_state=file_state,
    dir_entries=dir_entries,
    os_release=os_release,
    certificate_facts=certificate_facts,
)


def run_probe(name, source, args):
    """A role's probe: its source defines ``inspect(args, core)``; returns what that returned."""
    namespace = {"__name__": f"probe_{name}"}
    exec(compile(source, f"<probe {name}>", "exec"), namespace)  # noqa: S102
    return namespace["inspect"](args, CORE)


def run_program(source, argv):
    """Run a role's inspection in this process and return the JSON it printed."""
    code = compile(source, "<inspection>", "exec")
    output = io.StringIO()
    saved = sys.argv
    sys.argv = ["program", *argv]
    status = 0
    try:
        with contextlib.redirect_stdout(output):
            try:
                exec(code, {"__name__": "__main__", "__file__": "<inspection>"})  # noqa: S102
            except SystemExit as exc:
                status = exc.code
    finally:
        sys.argv = saved
    if status not in (None, 0):
        raise RuntimeError(f"the inspection exited with {status!r}")
    text = output.getvalue()
    try:
        return json.loads(text)
    except ValueError:
        raise RuntimeError(f"the inspection printed no JSON document: {text[-300:]!r}") from None


def answer(request):
    result = {
        "os": os_release(),
        "files": {path: file_state(path) for path in request.get("files") or []},
        "dirs": {path: dir_entries(path) for path in request.get("dirs") or []},
        "packages": packages(list(request.get("packages") or [])),
        "units": units(list(request.get("units") or [])),
        "probes": {
            name: run_probe(name, probe["source"], probe.get("args"))
            for name, probe in sorted((request.get("probes") or {}).items())
        },
    }
    if request.get("program"):
        result["info"] = run_program(request["program"], [str(arg) for arg in request.get("argv") or []])
    return result


def decode(text):
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def main():
    try:
        result = answer(decode(sys.argv[2]))
    except Exception as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        sys.exit(3)
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
