# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of tests/integration/galaxy.sh (see its header).

- ``inventory``: an inventory of one set of the test's containers, from the static group
  variables next to this file, as a user keeps it (``hosts.yml`` and ``group_vars/``) or as
  AWX hands it to a job (``inventory/hosts``: an executable that prints the inventory as
  JSON, group variables inline, host variables under ``_meta``);
- ``runner-env``: the ``env/`` files of an ansible-runner private data directory as AWX
  writes them for a job with a Machine credential (``cmdline``, ``ssh_key``, ``passwords``,
  ``extravars``, ``envvars``, ``settings``);
- ``slices``: the hosts of each job slice, as AWX slices an inventory;
- ``runner-check``: the verdict on an ansible-runner artifact directory (status, rc, job events);
- ``recap``: the verdict on ansible-playbook's PLAY RECAP in a log.

Every check prints what it found and exits non-zero when something is wrong.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import stat
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
GROUP_VARS = os.path.join(HERE, "inventory", "group_vars")
GROUPS = ("loadbalancers", "appservers", "dbservers")
ROLES = {"lb": "loadbalancers", "app1": "appservers", "app2": "appservers", "db": "dbservers"}
# How the test reaches its containers: SSH, no known_hosts kept (AWX's default too:
# ANSIBLE_HOST_KEY_CHECKING=False).
CONNECTION = {
    "ansible_connection": "ssh",
    "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
}
# What an AWX Machine credential adds on the command line, for inventories used without AWX.
CREDENTIAL = {"ansible_user": "operator", "ansible_become": True}
# AWX's answers to the prompts it expects (awx/main/tasks/jobs.py, RunJob.get_password_prompts):
# the SSH key's passphrase, become and SSH passwords, the vault password.
PROMPTS = {
    r"Enter passphrase for .*:\s*?$": "",
    r"Bad passphrase, try again for .*:\s*?$": "",
    r"BECOME password.*:\s*?$": "become_password",
    r"SUDO password.*:\s*?$": "become_password",
    r"sudo password.*:\s*?$": "become_password",
    r"SSH password:\s*?$": "",
    r"Password:\s*?$": "",
    r"Vault password:\s*?$": "",
}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def read_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


# --- inventory ----------------------------------------------------------------------------


def set_vars(args):
    with open(args.admin_key, encoding="utf-8") as handle:
        key = handle.read().strip()
    values = {"gwit_prefix": args.prefix, "gwit_subnet": args.subnet, "gwit_admin_key": key, **CONNECTION}
    if args.credential:
        values.update(CREDENTIAL)
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as handle:
            values["gwit_db_password"] = handle.read().strip()
    return values


def addresses(pairs):
    result = {}
    for pair in pairs:
        name, sep, address = pair.partition("=")
        if not sep or not address:
            fail(f"--address wants NAME=IP, got {pair!r}")
        result[name] = address
    return result


def group_of(prefix, host):
    role = host.removeprefix(prefix + "-")
    if role not in ROLES:
        fail(f"host {host} is not {prefix}-lb, -app1, -app2 or -db")
    return ROLES[role]


def write_yaml_inventory(out, values, hosts, prefix):
    """hosts.yml and group_vars/, as a user keeps an inventory."""
    children = {group: {"hosts": {}} for group in GROUPS}
    for host, address in hosts.items():
        children[group_of(prefix, host)]["hosts"][host] = {"ansible_host": address}
    document = {"all": {"vars": values, "children": children}}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "hosts.yml"), "w", encoding="utf-8") as handle:
        handle.write("---\n")
        yaml.safe_dump(document, handle, sort_keys=False, width=200)
    shutil.copytree(GROUP_VARS, os.path.join(out, "group_vars"), dirs_exist_ok=True)


def write_awx_inventory(out, values, hosts, prefix):
    """inventory/hosts as AWX writes it (awx/main/models/inventory.py, get_script_data; and
    awx/main/tasks/jobs.py, write_inventory_file): an executable printing the JSON."""
    data = {"all": {"vars": values, "hosts": [], "children": list(GROUPS)}}
    for group in GROUPS:
        data[group] = {"hosts": [], "vars": read_yaml(os.path.join(GROUP_VARS, f"{group}.yml"))}
    # group_vars/all.yml belongs to the group "all", as AWX stores it.
    data["all"]["vars"] = {**read_yaml(os.path.join(GROUP_VARS, "all.yml")), **values}
    hostvars = {}
    for host in sorted(hosts):
        data[group_of(prefix, host)]["hosts"].append(host)
        hostvars[host] = {"ansible_host": hosts[host]}
    data["_meta"] = {"hostvars": hostvars}
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "hosts")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(data))  # noqa: UP031
    os.chmod(path, stat.S_IRWXU)


def cmd_inventory(args):
    values = set_vars(args)
    hosts = addresses(args.address)
    if args.format == "yaml":
        write_yaml_inventory(args.out, values, hosts, args.prefix)
    else:
        write_awx_inventory(args.out, values, hosts, args.prefix)


# --- ansible-runner's env/ ----------------------------------------------------------------


def write(path, text, mode=0o600):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)


def cmd_runner_env(args):
    env = os.path.join(args.pdd, "env")
    os.makedirs(env, exist_ok=True)
    with open(args.password_file, encoding="utf-8") as handle:
        password = handle.read().strip()
    with open(args.key, encoding="utf-8") as handle:
        key = handle.read()
    # The Machine credential: user, become, a become password (the account needs none: sudo
    # without a password; ansible-playbook asks for it and ansible-runner answers).
    write(os.path.join(env, "cmdline"), "-u operator --become --become-method sudo --ask-become-pass")
    write(os.path.join(env, "ssh_key"), key)
    passwords = {
        prompt: (args.become_password if answer == "become_password" else answer)
        for prompt, answer in PROMPTS.items()
    }
    write(os.path.join(env, "passwords"), json.dumps(passwords, indent=2) + "\n")
    # A credential injected as an extra variable, as AWX injects custom credentials.
    write(os.path.join(env, "extravars"), json.dumps({"gwit_db_password": password}) + "\n")
    envvars = {
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(args.pdd, "project", "collections"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(args.pdd, "cp"),
    }
    write(os.path.join(env, "envvars"), json.dumps(envvars, indent=2) + "\n")
    # A hung prompt or task ends the job: no output for idle_timeout seconds, or longer than
    # job_timeout in all. AWX keeps the console quiet and reads the job events.
    settings = {
        "job_timeout": args.job_timeout,
        "idle_timeout": args.idle_timeout,
        "pexpect_timeout": 5,
        "pexpect_use_poll": True,
        "suppress_ansible_output": True,
    }
    write(os.path.join(env, "settings"), json.dumps(settings, indent=2) + "\n")
    os.makedirs(os.path.join(args.pdd, "cp"), mode=0o700, exist_ok=True)


# --- AWX job slices -------------------------------------------------------------------------


def cmd_slices(args):
    """Slice n (1-based) of k holds the hosts ordered by name, from offset n-1, every k-th
    (awx/main/models/inventory.py: Inventory.get_sliced_hosts)."""
    document = read_yaml(os.path.join(args.inventory, "hosts.yml"))
    hosts = sorted(
        host
        for group in (document["all"].get("children") or {}).values()
        for host in (group.get("hosts") or {})
    )
    for number in range(1, args.count + 1):
        members = hosts[number - 1 :: args.count]
        if not members:
            fail(f"slice {number} of {args.count} has no hosts ({len(hosts)} hosts)")
        print(",".join(members))


# --- verdicts ---------------------------------------------------------------------------------


def expected_hosts(text):
    return [host for host in text.split(",") if host]


def check_stats(label, stats, hosts, unchanged):
    """stats: {host: {ok, changed, unreachable, failed}}."""
    problems = []
    for host in hosts:
        if host not in stats:
            problems.append(f"{host} is not in the recap")
            continue
        counts = stats[host]
        if counts["failed"] or counts["unreachable"]:
            problems.append(f"{host}: failed={counts['failed']} unreachable={counts['unreachable']}")
        if unchanged and counts["changed"]:
            problems.append(f"{host}: changed={counts['changed']} (expected no change)")
    extra = sorted(set(stats) - set(hosts))
    if extra:
        problems.append(f"hosts outside the run in the recap: {', '.join(extra)}")
    line = ", ".join(
        f"{host} ok={stats[host]['ok']} changed={stats[host]['changed']}" for host in sorted(stats)
    )
    print(f"{label}: {line}")
    return problems


def cmd_recap(args):
    with open(args.log, encoding="utf-8", errors="replace") as handle:
        lines = [ANSI.sub("", line) for line in handle.read().splitlines()]
    try:
        start = max(index for index, line in enumerate(lines) if line.startswith("PLAY RECAP"))
    except ValueError:
        fail(f"{args.log}: no PLAY RECAP")
    stats = {}
    for line in lines[start + 1 :]:
        match = RECAP.match(line.strip())
        if match:
            ok, changed, unreachable, failed = (int(value) for value in match.groups()[1:])
            stats[match.group(1)] = {
                "ok": ok,
                "changed": changed,
                "unreachable": unreachable,
                "failed": failed,
            }
    problems = check_stats(args.label, stats, expected_hosts(args.hosts), args.unchanged)
    if problems:
        fail(f"{args.label}: " + "; ".join(problems))


def cmd_installed(args):
    """ansible-galaxy installed the tarball into an empty path and resolved each dependency
    of requirements.yml to a collection already installed (the ansible package's): nothing
    was downloaded, and the path holds groundwork.server alone."""
    with open(args.log, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    problems = []
    if f"groundwork.server:{args.version} was installed successfully" not in text:
        problems.append(f"no 'groundwork.server:{args.version} was installed successfully'")
    names = [entry["name"] for entry in read_yaml(args.requirements).get("collections") or []]
    if not names:
        problems.append(f"{args.requirements} lists no collections")
    for name in names:
        match = re.search(rf"'{re.escape(name)}:([^']+)' is already installed, skipping", text)
        if match:
            print(f"dependency {name}: {match.group(1)}, already installed (not downloaded)")
        else:
            problems.append(f"dependency {name} was not resolved to an installed collection")
    root = os.path.join(args.collections, "ansible_collections")
    found = sorted(
        f"{namespace}.{name}"
        for namespace in os.listdir(root)
        if os.path.isdir(os.path.join(root, namespace))
        for name in os.listdir(os.path.join(root, namespace))
        if os.path.isdir(os.path.join(root, namespace, name))
    )
    if found != ["groundwork.server"]:
        problems.append(f"{root} holds {found}, expected groundwork.server alone")
    if problems:
        fail("; ".join(problems))


def load_events(artifact):
    events = []
    for path in glob.glob(os.path.join(artifact, "job_events", "*.json")):
        with open(path, encoding="utf-8") as handle:
            events.append(json.load(handle))
    return sorted(events, key=lambda event: event.get("counter", 0))


def cmd_runner_check(args):
    artifact = args.artifact
    problems = []
    try:
        with open(os.path.join(artifact, "status"), encoding="utf-8") as handle:
            status = handle.read().strip()
        with open(os.path.join(artifact, "rc"), encoding="utf-8") as handle:
            rc = handle.read().strip()
    except OSError as exc:
        fail(f"{args.label}: {exc}")
    if status != "successful" or rc != "0":
        problems.append(f"status {status}, rc {rc}")
    events = load_events(artifact)
    if not events:
        problems.append("no job events")
    # Every failed or unreachable event counts, ignored or not: the collection ignores no
    # errors (it says with failed_when what is not a failure), and on hosts that are up a
    # converge must not meet an unreachable host. A firewall commit-confirm that only
    # "worked" because its rescue reconnected after a rollback shows up here too.
    for event in events:
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind in ("runner_on_failed", "runner_on_unreachable", "runner_on_async_failed"):
            ignored = " (ignored)" if data.get("ignore_errors") else ""
            result = data.get("res") or {}
            problems.append(
                f"{kind}{ignored}: {data.get('host')}: {data.get('task')}: {str(result.get('msg', ''))[:300]}"
            )
        if kind == "playbook_on_vars_prompt":
            problems.append(f"the playbook prompted: {data.get('varname')}")
    stats = [event for event in events if event.get("event") == "playbook_on_stats"]
    if len(stats) != 1:
        problems.append(f"{len(stats)} playbook_on_stats events (expected one)")
        counts = {}
    else:
        data = stats[0].get("event_data") or {}
        hosts = set(data.get("processed") or {}) | set(data.get("ok") or {})
        counts = {
            host: {
                key: int((data.get(field) or {}).get(host, 0))
                for key, field in (
                    ("ok", "ok"),
                    ("changed", "changed"),
                    ("unreachable", "dark"),
                    ("failed", "failures"),
                )
            }
            for host in hosts
        }
    problems += check_stats(args.label, counts, expected_hosts(args.hosts), args.unchanged)
    kinds = {}
    for event in events:
        kinds[event.get("event")] = kinds.get(event.get("event"), 0) + 1
    print(
        f"{args.label}: status {status}, rc {rc}, {len(events)} job events"
        f" ({kinds.get('runner_on_ok', 0)} ok, {kinds.get('runner_on_failed', 0)} failed,"
        f" {kinds.get('runner_on_unreachable', 0)} unreachable)"
    )
    if problems:
        fail(f"{args.label}: " + "; ".join(problems))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    inventory = sub.add_parser("inventory")
    inventory.add_argument("--prefix", required=True)
    inventory.add_argument("--subnet", required=True)
    inventory.add_argument("--admin-key", required=True, help="the public key file of the admin user")
    inventory.add_argument("--address", action="append", default=[], help="HOST=IP, once a host")
    inventory.add_argument("--password-file", help="gwit_db_password kept in the inventory")
    inventory.add_argument("--credential", action="store_true", help="ansible_user and ansible_become")
    inventory.add_argument("--format", choices=("yaml", "awx"), default="yaml")
    inventory.add_argument("--out", required=True)
    inventory.set_defaults(func=cmd_inventory)

    runner_env = sub.add_parser("runner-env")
    runner_env.add_argument("pdd")
    runner_env.add_argument("--key", required=True, help="the private key file")
    runner_env.add_argument("--password-file", required=True)
    runner_env.add_argument("--become-password", required=True)
    runner_env.add_argument("--job-timeout", type=int, default=1500)
    runner_env.add_argument("--idle-timeout", type=int, default=600)
    runner_env.set_defaults(func=cmd_runner_env)

    slices = sub.add_parser("slices")
    slices.add_argument("--inventory", required=True)
    slices.add_argument("--count", type=int, default=3)
    slices.set_defaults(func=cmd_slices)

    # The two checks of a run's outcome: ansible-runner's artifacts, or ansible-playbook's recap.
    for name, source, func in (
        ("runner-check", "artifact", cmd_runner_check),
        ("recap", "log", cmd_recap),
    ):
        check = sub.add_parser(name)
        check.add_argument(source)
        check.add_argument("--label", required=True)
        check.add_argument("--hosts", required=True)
        check.add_argument("--unchanged", action="store_true")
        check.set_defaults(func=func)

    installed = sub.add_parser("installed")
    installed.add_argument("log")
    installed.add_argument("--requirements", required=True)
    installed.add_argument("--collections", required=True)
    installed.add_argument("--version", required=True)
    installed.set_defaults(func=cmd_installed)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
