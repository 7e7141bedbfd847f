# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork-tls-renew: whole runs against the fakes (states, renew-now, output, exit codes)."""

from __future__ import annotations

import datetime
import json
import subprocess

import pytest
from conftest import DIRECTORY, NOW, PROGRAM, fake_pem

RENEWAL_INFO = "https://acme.test/renewalInfo"


def states(results):
    return [(result.name, result.state) for result in results]


def issue(host, renew):
    """Bring the host to a deployed, issued certificate; returns its result."""
    host.write_spec()
    (result,) = renew.run(host.ctx)
    assert result.state == "issued"
    host.runner.calls.clear()
    return result


def test_waiting_makes_no_ca_request(renew, host):
    host.write_spec()
    host.write_deployed(placeholder=True)
    host.web.serving = False
    (result,) = renew.run(host.ctx)
    assert result.state == "waiting"
    assert result.detail.startswith("the web server does not serve the ACME webroot yet")
    assert result.serial == "0A1B2C"  # the placeholder's
    assert host.runner.certbot_calls() == []
    assert (host.cert_dir() / ".placeholder").exists()
    assert renew.exit_code([result]) == 0


def test_issue_deploys_and_runs_the_hooks(renew, host):
    log = host.root / "hooks.log"
    host.write_hook("shop", "nginx", f"echo $GROUNDWORK_TLS_NAME >> {log}")
    host.write_spec(ca_bundle="/etc/groundwork/tls/acme-ca.pem")
    host.write_deployed(placeholder=True)
    (result,) = renew.run(host.ctx)
    assert (result.state, result.serial) == ("issued", "101")
    assert result.detail == f"placeholder certificate; obtained from {DIRECTORY}"
    assert result.not_after == "2027-02-23T12:00:00Z"
    assert result.hooks == [{"hook": "nginx", "rc": 0, "output": ""}]
    (call,) = host.runner.certbot_calls()
    assert "--force-renewal" not in call[0]  # no lineage yet
    assert call[1]["REQUESTS_CA_BUNDLE"] == "/etc/groundwork/tls/acme-ca.pem"
    assert not (host.cert_dir() / ".placeholder").exists()
    assert (host.cert_dir() / "privkey.pem").read_text(encoding="ascii") == "KEY 257\n"
    assert log.read_text(encoding="ascii") == "shop\n"


def test_second_run_is_ok_without_ca_request(renew, host):
    issue(host, renew)
    (result,) = renew.run(host.ctx)
    assert result.state == "ok"
    assert result.detail == "valid until 2027-02-23T12:00:00Z, renewal from 2027-01-24T12:00:00Z"
    assert host.runner.certbot_calls() == []


def test_renewal_due_renews_with_force_renewal(renew, host):
    issue(host, renew)
    host.now = NOW + datetime.timedelta(days=61)
    (result,) = renew.run(host.ctx)
    assert (result.state, result.serial) == ("renewed", "102")
    assert result.detail.startswith("less than 1/3 of the lifetime left")
    (call,) = host.runner.certbot_calls()
    assert call[0][-1] == "--force-renewal"


def test_ari_window_renews(renew, host):
    issue(host, renew)
    host.acme.answers[DIRECTORY] = {"renewalInfo": RENEWAL_INFO}
    cert_id = renew.ari_cert_id("AB" * 20, "101")
    window = {"suggestedWindow": {"start": "2026-11-25T11:00:00Z", "end": "2026-11-27T00:00:00Z"}}
    host.acme.answers[f"{RENEWAL_INFO}/{cert_id}"] = window
    (result,) = renew.run(host.ctx)
    assert result.state == "renewed"
    assert result.detail.startswith("ARI suggested window started 2026-11-25T11:00:00Z")


def test_ari_fetch_failure_falls_back(renew, host):
    issue(host, renew)
    host.acme.answers[DIRECTORY] = renew.AriError("https://acme.test/dir: timed out")
    (result,) = renew.run(host.ctx)
    assert result.state == "ok"
    assert "ARI unavailable (https://acme.test/dir: timed out), lifetime rule applies" in result.detail
    assert renew.exit_code([result]) == 0


def test_key_type_change_issues_again(renew, host):
    issue(host, renew)
    host.write_spec(key_type="rsa3072")
    (result,) = renew.run(host.ctx)
    assert result.state == "issued"
    assert result.detail.startswith("key type differs: certificate has ecdsa_p256, wanted rsa3072")
    (call,) = host.runner.certbot_calls()
    assert call[0][-1] == "--force-renewal"  # the lineage exists
    assert "--rsa-key-size" in call[0]


def test_domain_change_issues_again(renew, host):
    issue(host, renew)
    host.write_spec(domains=["shop.example.com", "api.example.com"])
    (result,) = renew.run(host.ctx)
    assert result.state == "issued"
    assert result.detail.startswith("domains differ")


def test_certificate_that_does_not_fit_after_certbot_fails(renew, host):
    host.write_spec()
    host.runner.issue_key_type = "rsa2048"
    (result,) = renew.run(host.ctx)
    assert result.state == "failed"
    assert result.detail == (
        "the certificate certbot obtained does not fit: "
        "key type differs: certificate has rsa2048, wanted ecdsa_p256"
    )
    assert not host.cert_dir().exists()


def test_lineage_is_deployed_without_ca_request(renew, host):
    issue(host, renew)
    for name in ("cert.pem", "privkey.pem"):
        (host.cert_dir() / name).unlink()
    probes = len(host.web.requests)
    (result,) = renew.run(host.ctx)
    assert result.state == "issued"
    assert result.detail == "no certificate deployed; deployed the certificate the ACME client already holds"
    assert host.runner.certbot_calls() == []
    assert len(host.web.requests) == probes  # no self-check either: nothing is ordered


def test_a_certificate_from_elsewhere_is_replaced(renew, host):
    host.write_spec()
    host.write_deployed(pem=fake_pem(["shop.example.com", "www.shop.example.com"], serial="77"))
    (result,) = renew.run(host.ctx)
    assert result.state == "issued"
    assert result.detail.startswith("the ACME client holds no certificate for it")


def test_certbot_failure(renew, host):
    host.write_spec()
    host.runner.certbot_rc = 1
    host.runner.certbot_stderr = (
        "An unexpected error occurred:\nThe server could not connect to the client.\n"
    )
    (result,) = renew.run(host.ctx)
    assert result.state == "failed"
    assert result.detail == (
        "certbot failed (exit 1): An unexpected error occurred: | The server could not connect to the client."
    )
    assert renew.exit_code([result]) == 1


def test_a_failing_hook_is_reported_and_fails_the_run(renew, host):
    host.write_hook("shop", "10-broken", "echo 'nginx: configuration test failed' >&2; exit 1")
    host.write_hook("shop", "20-fine", "true")
    host.write_spec()
    (result,) = renew.run(host.ctx)
    assert result.state == "issued"
    assert result.detail.endswith("; hook failed: 10-broken (exit 1: nginx: configuration test failed)")
    assert [hook["rc"] for hook in result.hooks] == [1, 0]
    assert renew.exit_code([result]) == 1


def test_missing_key_group_fails(renew, host):
    host.write_spec()

    def no_group(group):
        raise renew.RenewError(f"group {group} does not exist")

    host.ctx.group_lookup = no_group
    (result,) = renew.run(host.ctx)
    assert (result.state, result.detail) == ("failed", "group groundwork-tls does not exist")


# --- --force, --name, --pending-only, renew-now --------------------------------------------------
def test_force(renew, host):
    issue(host, renew)
    (result,) = renew.run(host.ctx, force=True)
    assert (result.state, result.detail) == (
        "renewed",
        f"renewal forced (--force); obtained from {DIRECTORY}",
    )


def test_names_select_certificates(renew, host):
    host.write_spec("shop")
    host.write_spec("api", domains=["api.example.com"])
    assert states(renew.run(host.ctx)) == [("api", "issued"), ("shop", "issued")]
    assert states(renew.run(host.ctx, ["shop"], force=True)) == [("shop", "renewed")]


def test_unknown_name_fails(renew, host):
    results = renew.run(host.ctx, ["nope"])
    assert states(results) == [("nope", "failed")]
    assert results[0].detail == f"no specification {host.paths.spec_dir}/nope.json"
    assert renew.exit_code(results) == 1


def test_broken_spec_fails_but_others_proceed(renew, host):
    host.write_spec("shop")
    (host.root / "etc/groundwork/tls/certificates/bad.json").write_text("{", encoding="utf-8")
    results = renew.run(host.ctx)
    assert states(results) == [("bad", "failed"), ("shop", "issued")]
    assert results[0].detail.startswith("cannot read")
    assert renew.exit_code(results) == 1


def test_no_specifications(renew, host):
    assert renew.run(host.ctx) == []
    assert renew.exit_code([]) == 0


def test_pending_only_issues_but_does_not_renew(renew, host):
    host.write_spec("shop")
    assert states(renew.run(host.ctx, pending_only=True)) == [("shop", "issued")]
    host.now = NOW + datetime.timedelta(days=80)
    host.acme.fetched.clear()
    (result,) = renew.run(host.ctx, pending_only=True, force=True)
    assert result.state == "ok"
    assert result.detail.endswith("left to the timer (--pending-only)")
    assert host.acme.fetched == []  # no ARI lookups either


@pytest.mark.parametrize(("content", "renewed"), [("", ["api", "shop"]), ("shop\n\n# comment\n", ["shop"])])
def test_renew_now_request(renew, host, content, renewed):
    host.write_spec("shop")
    host.write_spec("api", domains=["api.example.com"])
    renew.run(host.ctx)
    request = host.root / "etc/groundwork/tls/renew-now"
    request.write_text(content, encoding="utf-8")
    results = renew.run(host.ctx)
    assert [result.name for result in results if result.state == "renewed"] == renewed
    shop = next(result for result in results if result.name == "shop")
    assert shop.detail.startswith(f"renewal requested in {request}")
    assert not request.exists()


@pytest.mark.parametrize("kwargs", [{"names": ["shop"]}, {"pending_only": True}])
def test_renew_now_is_left_to_full_runs(renew, host, kwargs):
    issue(host, renew)
    request = host.root / "etc/groundwork/tls/renew-now"
    request.write_text("", encoding="utf-8")
    (result,) = renew.run(host.ctx, **kwargs)
    assert result.state == "ok"
    assert request.exists()


def test_renew_now_is_removed_even_when_the_renewal_fails(renew, host):
    issue(host, renew)
    request = host.root / "etc/groundwork/tls/renew-now"
    request.write_text("shop\n", encoding="utf-8")
    host.runner.certbot_rc = 1
    (result,) = renew.run(host.ctx)
    assert result.state == "failed"
    assert not request.exists()


def test_read_request(renew, host):
    assert renew.read_request(host.paths) is None
    request = host.root / "etc/groundwork/tls/renew-now"
    request.parent.mkdir(parents=True, exist_ok=True)
    request.write_text("\n  \n", encoding="utf-8")
    assert renew.read_request(host.paths) == "all"
    request.write_text("shop\n api \n", encoding="utf-8")
    assert renew.read_request(host.paths) == {"shop", "api"}


# --- main: output and exit codes -------------------------------------------------------------------
def test_main_json(renew, host, capsys):
    host.write_spec()
    assert renew.main(["--json"], host.ctx) == 0
    output = json.loads(capsys.readouterr().out)
    (certificate,) = output["certificates"]
    assert {key: certificate[key] for key in ("name", "state", "serial", "not_after")} == {
        "name": "shop",
        "state": "issued",
        "serial": "101",
        "not_after": "2027-02-23T12:00:00Z",
    }
    assert certificate["detail"] == f"no certificate deployed; obtained from {DIRECTORY}"


def test_main_lines(renew, host, capsys):
    host.write_spec()
    host.web.serving = False
    assert renew.main([], host.ctx) == 0
    assert capsys.readouterr().out.startswith(
        "shop waiting the web server does not serve the ACME webroot yet"
    )


def test_main_exit_code_on_failure(renew, host, capsys):
    host.write_spec()
    host.runner.certbot_rc = 1
    assert renew.main(["--name", "shop"], host.ctx) == 1
    assert capsys.readouterr().out.startswith("shop failed certbot failed (exit 1)")


@pytest.mark.parametrize("argv", [["--name", "../etc"], ["--bogus"]])
def test_main_usage_errors(renew, host, argv, capsys):
    with pytest.raises(SystemExit) as error:
        renew.main(argv, host.ctx)
    assert error.value.code == 2
    capsys.readouterr()


def test_program_runs_as_a_script(renew):
    """The shell/Python polyglot head starts python3 on the file."""
    result = subprocess.run(["/bin/sh", str(PROGRAM), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: groundwork-tls-renew")
