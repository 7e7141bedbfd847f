# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers the scenarios' testinfra tests share: playbook runs with changed variables and the
"bad input fails and changes nothing" check.

Molecule's testinfra verifier runs pytest from a scenario's tests/ directory, so a
scenario's conftest.py makes this directory importable first:

    SHARED = Path(__file__).resolve().parents[2] / "_shared"
    sys.path.insert(0, str(SHARED))
    pytest.register_assert_rewrite("testlib")
    import testlib  # noqa: E402
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

# ansible-playbook's output as plain text, whatever the caller's environment asks for.
NO_COLOUR = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}


def run_playbook(scenario_dir, inventory, playbook, variables, tmp_path, *options, timeout=300):
    """Run ``scenario_dir/playbook`` against ``inventory`` with ``variables`` as extra vars.

    The variables are written as JSON to ``tmp_path/vars.json`` and passed with ``-e @file``
    (so that every type survives); ``options`` are appended to the command line (``--check``,
    ``--diff``, ``-v`` ...). Returns ``(rc, output)``, output being stdout and stderr.
    """
    extra = Path(tmp_path) / "vars.json"
    extra.write_text(json.dumps(variables))
    command = [
        "ansible-playbook",
        "-i",
        str(inventory),
        str(Path(scenario_dir) / playbook),
        "-e",
        f"@{extra}",
        *options,
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | NO_COLOUR,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr


def recap_changed(output, host):
    """The ``changed=`` count of ``host`` in a playbook's recap."""
    return int(re.search(rf"{re.escape(host)}\s*:.*changed=(\d+)", output).group(1))


def assert_refused_unchanged(run, snapshot, expected):
    """Bad input: the play fails, names the problem and changes nothing.

    ``run()`` runs the play with the bad variables and returns ``(rc, output)``;
    ``snapshot()`` returns the state of the host to compare before and after; ``expected``
    must appear in the output (white space folded, so wrapped lines still match).
    Returns the output for further checks.
    """
    before = snapshot()
    rc, output = run()
    assert rc != 0, output
    assert expected in " ".join(output.split()), output
    assert "changed=0" in output, output
    assert snapshot() == before
    return output


def assert_refused(result, expected):
    """Bad input refused: ``result``, a run's ``(rc, output)``, failed, names ``expected``
    (white space folded) and changed nothing. For a run that refuses several problems at once,
    checked one problem at a time; comparing the host's state before and after is the
    caller's (``assert_refused_unchanged`` does both for a run of its own). Returns the output."""
    rc, output = result
    assert rc != 0, output
    assert expected in " ".join(output.split()), output
    assert "changed=0" in output, output
    return output
