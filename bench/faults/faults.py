# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault injection against the demo (driven by bench/faults.sh; see its header).

The demo's four containers are converged with playbooks/site.yml over SSH (the demo's key,
the operator account, sudo), so that a dead controller also means dead SSH sessions, as on
real servers. Two variants of the variables (A: the demo's, B: bench/faults/variant-b.yml)
differ in a setting of every service; each run switches to the other variant, so every run
changes every service. The faults:

- kill: SIGKILL to ansible-playbook's whole process group at a random moment of a run;
- restart: the database container restarted (docker restart) at a random moment of a run;
- diskfull: the balancer's /etc/nginx filled (a tmpfs of its own, filled when the run starts);
- cut: the network of an application server disconnected while the firewall's commit waits
  for its confirmation (the host must restore its previous table by itself).

After each fault: every service must be running (within 30 s) with the complete
configuration of variant A or of variant B (digests of its files and of what it runs,
bench/faults/fingerprint.py), never none and never a mix; then the runs needed until a run
succeeds and the hosts equal the target variant are counted.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTS = ["groundwork-lb", "groundwork-app1", "groundwork-app2", "groundwork-db"]
NETWORK = "groundwork-demo"
VARIANT_B = os.path.join(ROOT, "bench", "faults", "variant-b.yml")
FINGERPRINT = os.path.join(ROOT, "bench", "faults", "fingerprint.py")
SETTLE = 30
CONFIRM_TIMEOUT = 20


def log(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def sh(argv, check=True, **kwargs):
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kwargs)


def address(host):
    fmt = "{{ (index .NetworkSettings.Networks " + f'"{NETWORK}"' + ").IPAddress }}"
    return sh(["docker", "inspect", "-f", fmt, host]).stdout.strip()


class Demo:
    def __init__(self, work):
        self.work = work
        self.ssh_inventory = os.path.join(work, "ssh.yml")
        self.runs = 0
        self.addresses = {}

    def write_ssh_inventory(self):
        """The demo's hosts reached over SSH at their addresses (a later inventory source wins)."""
        key = os.path.join(ROOT, ".demo", "id_ed25519")
        self.addresses = {host: address(host) for host in HOSTS}
        lines = ["all:", "  hosts:"]
        for host in HOSTS:
            lines += [
                f"    {host}:",
                f"      ansible_host: {self.addresses[host]}",
                "      ansible_connection: ssh",
                "      ansible_user: operator",
                "      ansible_become: true",
                f"      ansible_ssh_private_key_file: {key}",
                "      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            ]
        with open(self.ssh_inventory, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")

    def command(self, variant, extra=()):
        argv = [
            "ansible-playbook",
            "-i",
            "inventories/demo",
            "-i",
            self.ssh_inventory,
            "playbooks/site.yml",
            "-e",
            f"firewall_confirm_timeout={CONFIRM_TIMEOUT}",
            *extra,
        ]
        return argv + (["-e", f"@{VARIANT_B}"] if variant == "B" else [])

    def start(self, variant, name, extra=()):
        self.runs += 1
        out = open(os.path.join(self.work, f"{name}.log"), "w", encoding="utf-8")  # noqa: SIM115
        process = subprocess.Popen(
            self.command(variant, extra),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_file = out
        return process

    def run(self, variant, name, extra=()):
        process = self.start(variant, name, extra)
        rc = process.wait()
        process.log_file.close()
        return rc

    def state(self):
        result = {}
        for host in HOSTS:
            sh(["docker", "cp", FINGERPRINT, f"{host}:/root/gw-fingerprint.py"])
            out = sh(["docker", "exec", host, "python3", "/root/gw-fingerprint.py"], check=False).stdout
            result[host] = json.loads(out) if out.strip() else {}
        return result


def classify(state, reference_a, reference_b):
    """Per service: 'A', 'B', 'down' or 'mix'."""
    verdict = {}
    for host, services in reference_a.items():
        for name, ref_a in services.items():
            now = state.get(host, {}).get(name)
            ref_b = reference_b[host][name]
            key = f"{host}/{name}"
            if not now or not now["active"]:
                verdict[key] = "down"
            elif (now["files"], now["live"]) == (ref_a["files"], ref_a["live"]):
                verdict[key] = "A"
            elif (now["files"], now["live"]) == (ref_b["files"], ref_b["live"]):
                verdict[key] = "B"
            else:
                verdict[key] = "mix"
    return verdict


def settled(demo, reference_a, reference_b):
    """The verdict once no service is down or mixed, or the last one after SETTLE seconds."""
    deadline = time.monotonic() + SETTLE
    while True:
        verdict = classify(demo.state(), reference_a, reference_b)
        bad = {k: v for k, v in verdict.items() if v in ("down", "mix")}
        if not bad or time.monotonic() > deadline:
            return verdict, bad
        time.sleep(3)


def converge(demo, variant, reference, name):
    """Runs of ``variant`` until one succeeds and the hosts equal ``reference`` (at most 3)."""
    for attempt in range(1, 4):
        if demo.run(variant, f"{name}-converge{attempt}") == 0 and demo.state() == reference:
            return attempt
    return None


def main():
    kills = int(os.environ.get("GW_FAULTS_KILLS", "20"))
    seed = int(os.environ.get("GW_FAULTS_SEED", str(random.SystemRandom().randrange(1 << 30))))
    rng = random.Random(seed)
    log(f"seed {seed} (GW_FAULTS_SEED={seed} repeats the same moments)")
    work = tempfile.mkdtemp(prefix="gwbench-faults.")
    demo = Demo(work)
    demo.write_ssh_inventory()
    log(f"logs in {work}")
    if demo.run("A", "prepare-A") != 0:
        sys.exit(f"the run of variant A over SSH failed: {work}/prepare-A.log")
    reference_a = demo.state()
    start = time.monotonic()
    if demo.run("B", "prepare-B") != 0:
        sys.exit(f"the run of variant B failed: {work}/prepare-B.log")
    duration = time.monotonic() - start
    reference_b = demo.state()
    same = [f"{h}/{s}" for h in reference_a for s in reference_a[h] if reference_a[h][s] == reference_b[h][s]]
    log(f"a changing run takes {duration:.0f} s; services: {sum(len(v) for v in reference_a.values())}")
    if same:
        log(f"NOTE: variant B does not change {', '.join(same)}")
    refs = {"A": reference_a, "B": reference_b}
    current = "B"
    results = []

    def record(kind, moment, verdict, bad, runs):
        results.append({"fault": kind, "at": moment, "bad": bad, "runs": runs})
        outcome = ", ".join(f"{k}={v}" for k, v in sorted(bad.items())) or "every service A or B"
        log(f"{kind} at {moment:.1f} s: {outcome}; converged after {runs} run(s)")

    def fault(kind, inject, target_variant):
        nonlocal current
        moment = rng.uniform(0.05, 0.95) * duration
        process = demo.start(target_variant, f"{kind}-{len(results) + 1}")
        inject(process, moment)
        process.log_file.close()
        verdict, bad = settled(demo, reference_a, reference_b)
        runs = converge(demo, target_variant, refs[target_variant], f"{kind}-{len(results) + 1}")
        record(kind, moment, verdict, bad, runs)
        current = target_variant

    def kill(process, moment):
        time.sleep(moment)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(process, moment):
        time.sleep(moment)
        sh(["docker", "restart", "groundwork-db"])
        process.wait()
        sh(
            ["docker", "exec", "groundwork-db", "timeout", "90", "systemctl", "is-system-running", "--wait"],
            check=False,
        )

    for _kill in range(kills):
        fault("kill", kill, "A" if current == "B" else "B")
    for _restart in range(2):
        fault("restart", restart, "A" if current == "B" else "B")
    diskfull(demo, rng, duration, refs, record, lambda v: "A" if v == "B" else "B", current)
    cut(demo, refs, record)

    down = sum(1 for r in results for v in r["bad"].values() if v == "down")
    mixed = sum(1 for r in results for v in r["bad"].values() if v == "mix")
    worst = max((r["runs"] or 99) for r in results)
    print()
    print(f"faults injected: {len(results)} (kills {kills}, restarts 2, disk full 1, cut 1); seed {seed}")
    print(f"services found down: {down}; found with a mixed configuration: {mixed}")
    print(f"runs needed to converge after a fault: at most {worst} (goal: 0 down, 1 run)")
    with open(os.path.join(work, "results.json"), "w", encoding="utf-8") as handle:
        json.dump({"seed": seed, "duration": duration, "results": results}, handle, indent=1)
    sys.exit(0)


def diskfull(demo, rng, duration, refs, record, other, current):
    """/etc/nginx on a tmpfs of its own with little room, filled while the run goes."""
    host = "groundwork-lb"
    setup = (
        "set -e; mkdir -p /run/gw-faults; cp -a /etc/nginx/. /run/gw-faults/copy/ 2>/dev/null || "
        "(mkdir -p /run/gw-faults/copy && cp -a /etc/nginx/. /run/gw-faults/copy/); "
        "used=$(du -sk /etc/nginx | cut -f1); mount -t tmpfs -o size=$((used + 512))k gw-faults /etc/nginx; "
        "cp -a /run/gw-faults/copy/. /etc/nginx/"
    )
    sh(["docker", "exec", host, "sh", "-c", setup])
    target = other(current)
    process = demo.start(target, "diskfull")
    moment = rng.uniform(0.0, 0.5) * duration
    time.sleep(moment)
    sh(["docker", "exec", host, "sh", "-c", "dd if=/dev/zero of=/etc/nginx/gw-fill bs=4k 2>/dev/null; true"])
    process.wait()
    process.log_file.close()
    sh(["docker", "exec", host, "rm", "-f", "/etc/nginx/gw-fill"])
    verdict, bad = settled(demo, refs["A"], refs["B"])
    runs = converge(demo, target, refs[target], "diskfull")
    record("diskfull", moment, verdict, bad, runs)
    # Back to the container's own disk: the tmpfs's files go back under it, then a run.
    sh(
        [
            "docker",
            "exec",
            host,
            "sh",
            "-c",
            "cp -a /etc/nginx/. /run/gw-faults/copy/ && umount /etc/nginx"
            " && cp -a /run/gw-faults/copy/. /etc/nginx/ && rm -rf /run/gw-faults",
        ]
    )


def cut(demo, refs, record):
    """The network of app1 cut while the firewall's commit waits for its confirmation."""
    host = "groundwork-app1"
    current = "B" if classify(demo.state(), refs["A"], refs["B"])[f"{host}/firewall"] == "B" else "A"
    target = "A" if current == "B" else "B"
    ip = demo.addresses[host]
    process = demo.start(target, "cut", extra=("--limit", host))
    armed = time.monotonic()
    deadline = armed + 600
    while time.monotonic() < deadline and process.poll() is None:
        state = sh(
            ["docker", "exec", host, "systemctl", "is-active", "groundwork-firewall-rollback.timer"],
            check=False,
        )
        if state.stdout.strip() == "active":
            break
        time.sleep(0.2)
    moment = time.monotonic() - armed
    sh(["docker", "network", "disconnect", NETWORK, host])
    try:
        time.sleep(CONFIRM_TIMEOUT + 10)
        table = classify(demo.state(), refs["A"], refs["B"])[f"{host}/firewall"]
    finally:
        sh(["docker", "network", "connect", NETWORK, host])
        if address(host) != ip:
            log(f"{host} came back as {address(host)}, not {ip}: the next runs re-address the flows")
            demo.write_ssh_inventory()
    process.wait()
    process.log_file.close()
    bad = {} if table == current else {f"{host}/firewall": f"{table} (expected the previous table {current})"}
    verdict, more = settled(demo, refs["A"], refs["B"])
    bad.update(more)
    runs = converge(demo, target, refs[target], "cut")
    record("cut", moment, verdict, bad, runs)


if __name__ == "__main__":
    main()
