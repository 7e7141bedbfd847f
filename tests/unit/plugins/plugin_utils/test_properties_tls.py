# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests of groundwork.server.tls's validation (issue 16): every input field, driven
with generated values of each class of bad input (tests/unit/bad_values.py), through the entry
point the action plugin calls (_tls_role.validate), is refused with a message naming the
field; a provided private key never appears in a message; and generated valid input is
accepted, so that the refusals are not the validation refusing everything."""

from __future__ import annotations

import datetime
import string

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _tls_role as role
from ansible_collections.groundwork.server.plugins.plugin_utils._tls_model import KEYS, PROVIDERS
from bad_values import (
    CONTROL_CHARS,
    PRINTABLE,
    any_text,
    bad_paths,
    control_strings,
    escaping_names,
    non_integers,
    non_strings,
    out_of_range,
    refused,
    with_one_of,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from role_properties import BAD_VALUES, bad_values_of

INVENTORY = ["web1", "ca1", "lb1"]
LOWER = string.ascii_lowercase
WORD = st.text(LOWER, min_size=1, max_size=8)


class Context:
    def __init__(self):
        self.check_mode = False
        self.host = "web1"
        self.groups = {"all": INVENTORY, "webservers": ["web1"]}
        self.hostvars = {}


def inputs(**changes):
    values = {
        "tls_certificates": [
            {"name": "site", "domains": ["www.example.org", "example.org"], "provider": "selfsigned"},
        ],
        "tls_acme_email": "ops@example.org",
        "tls_internal_ca_host": "ca1",
        "tls_internal_ca_dir": "/srv/groundwork/ca",
        "playbook_dir": "/nonexistent/playbooks",
    }
    values.update(changes)
    return values


def certificate(**changes):
    item = {"name": "site", "domains": ["www.example.org"], "provider": "selfsigned"}
    item.update(changes)
    return inputs(tls_certificates=[item])


def problems_of(given_inputs):
    model, problems = role.validate(given_inputs, Context())
    assert (model is None) == bool(problems)
    return problems


def names(errors, *parts):
    """One message names every part (the variable, and the key of an item)."""
    return refused(errors, parts[0]) and any(all(part in message for part in parts) for message in errors)


# --- generated bad values, per field and class ----------------------------------------------

NAME_SYNTAX = string.ascii_uppercase + " /\\;:{}\"'$%*?<>|&@!#,="
DOMAIN_SYNTAX = " /\\;:{}\"'$%*?<>|&@!#,=_~+()[]"
URL_SYNTAX = " \"'\\<>{}`^|#"
EMAIL_SYNTAX = " ;\"'\\<>(),[]:`"
WEBROOT_SYNTAX = " ;{}\"'$#\\<>%"
POSIX_SYNTAX = string.ascii_uppercase + " :/;,'\"$*?<>|&.@"
BOOLEAN_WORDS = {"yes", "no", "true", "false", "on", "off", "y", "n", "t", "f", "1", "0"}


def https(path_part):
    return path_part.map(lambda s: f"https://acme.example.org/{s}")


def not_in(strategy, values):
    return strategy.filter(lambda v: not isinstance(v, str) or v not in values)


# One case per field: the classes that apply to it, each drawn as often as the others.
CASES = [
    # tls_certificates[].name: becomes /etc/ssl/groundwork/<name>/ and a JSON spec file name
    (
        "name",
        ("tls_certificates[0]", "name"),
        st.one_of(escaping_names(), control_strings(LOWER), with_one_of(NAME_SYNTAX, LOWER), non_strings()),
        lambda v: certificate(name=v),
    ),
    # a key a certificate does not have (a typo would fall back to a default)
    (
        "certificate/key",
        ("tls_certificates[0]", "is not a key of a certificate"),
        st.one_of(st.text(LOWER + "_", min_size=1, max_size=12), control_strings()).filter(
            lambda k: k not in KEYS
        ),
        lambda v: certificate(**{v: "x"}),
    ),
    # tls_certificates[].domains: the subject alternative names (DNS names only)
    (
        "domains[]",
        ("tls_certificates[0]", "domains[0]"),
        st.one_of(
            control_strings(LOWER + ".-"),
            with_one_of(DOMAIN_SYNTAX, LOWER + "."),
            st.ip_addresses().map(str),
            non_strings(),
            st.sampled_from(["", "a" * 64 + ".example", "*.*.example.org", "example.123", "-a.example"]),
        ),
        lambda v: certificate(domains=[v]),
    ),
    (
        "domains",
        ("tls_certificates[0]", "domains"),
        st.one_of(st.just([]), WORD, st.integers(), st.dictionaries(WORD, WORD, max_size=2)),
        lambda v: certificate(domains=v),
    ),
    # tls_certificates[].provider, key_type: exact choices
    (
        "provider",
        ("tls_certificates[0]", "provider"),
        st.one_of(not_in(any_text(), PROVIDERS), non_strings()),
        lambda v: certificate(provider=v),
    ),
    (
        "key_type",
        ("tls_certificates[0]", "key_type"),
        st.one_of(not_in(any_text(), role.KEY_TYPES), non_strings()),
        lambda v: certificate(key_type=v),
    ),
    # tls_certificates[].days: 1 to 3650, a whole number
    (
        "days",
        ("tls_certificates[0]", "days"),
        st.one_of(out_of_range(1, 3650), st.integers(1, 3650).map(str), non_integers()),
        lambda v: certificate(days=v),
    ),
    # tls_acme_directory: an https URL (certbot's --server, the JSON spec)
    (
        "acme_directory",
        ("tls_acme_directory",),
        st.one_of(
            https(control_strings()),
            https(with_one_of(URL_SYNTAX)),
            out_of_range(1, 65535).map(lambda p: f"https://acme.example.org:{p}/dir"),
            any_text().filter(lambda v: not v.startswith("https://") and v not in role.DEFAULTS),
            non_strings(),
            st.none(),
        ),
        lambda v: inputs(tls_acme_directory=v),
    ),
    # tls_acme_email: the ACME account's contact (certbot's --email)
    (
        "acme_email",
        ("tls_acme_email",),
        st.one_of(
            control_strings().map(lambda s: s + "@example.org"),
            with_one_of(EMAIL_SYNTAX, LOWER, min_size=1).map(lambda s: s + "@example.org"),
            WORD.map(lambda s: "-" + s + "@example.org"),
            WORD.map(lambda s: s + "@"),
            WORD.map(lambda s: s + "@-bad.example"),
            WORD,
            non_strings(),
        ),
        lambda v: inputs(tls_acme_email=v),
    ),
    # tls_acme_webroot: a path both web server roles write into their configuration
    (
        "acme_webroot",
        ("tls_acme_webroot",),
        st.one_of(
            bad_paths(),
            with_one_of(WEBROOT_SYNTAX).map(lambda s: "/var/lib/" + s),
            st.just("/"),
            non_strings(),
        ),
        lambda v: inputs(tls_acme_webroot=v),
    ),
    # tls_renew_fraction: 2 to 100
    (
        "renew_fraction",
        ("tls_renew_fraction",),
        st.one_of(out_of_range(2, 100), non_integers()),
        lambda v: inputs(tls_renew_fraction=v),
    ),
    # tls_internal_ca_name: the trust store's file groundwork-<name>.crt
    (
        "ca_name",
        ("tls_internal_ca_name",),
        st.one_of(escaping_names(), control_strings(LOWER), with_one_of(NAME_SYNTAX, LOWER), non_strings()),
        lambda v: inputs(tls_internal_ca_name=v),
    ),
    # tls_internal_ca_host: localhost or a host of the inventory
    (
        "ca_host",
        ("tls_internal_ca_host",),
        st.one_of(
            st.text(LOWER + string.digits + ".-", min_size=1, max_size=12),
            control_strings(),
            non_strings(),
        ).filter(lambda v: v not in INVENTORY and v not in role.LOCAL),
        lambda v: inputs(tls_internal_ca_host=v),
    ),
    # tls_internal_ca_dir: absolute or ~/..., normalised
    (
        "ca_dir",
        ("tls_internal_ca_dir",),
        st.one_of(
            bad_paths(),
            WORD.map(lambda s: "~/../" + s),
            WORD.map(lambda s: f"~/{s}/../../{s}"),
            st.sampled_from(["~", "~/", "/", "~root/ca", "~/a//b"]),
            with_one_of(" \"'\\").map(lambda s: "/srv/" + s),
            non_strings(),
        ),
        lambda v: inputs(tls_internal_ca_dir=v),
    ),
    # tls_key_group, tls_key_group_members: POSIX names (groupadd, usermod -G)
    (
        "key_group",
        ("tls_key_group",),
        st.one_of(control_strings(LOWER), with_one_of(POSIX_SYNTAX, LOWER), non_strings(), st.just("")),
        lambda v: inputs(tls_key_group=v),
    ),
    (
        "key_group_members[]",
        ("tls_key_group_members[0]",),
        st.one_of(control_strings(LOWER), with_one_of(POSIX_SYNTAX, LOWER), non_strings(), st.just("root")),
        lambda v: inputs(tls_key_group_members=[v]),
    ),
    (
        "key_group_members",
        ("tls_key_group_members",),
        st.one_of(WORD, st.integers(), st.dictionaries(WORD, WORD, min_size=1, max_size=2)),
        lambda v: inputs(tls_key_group_members=v),
    ),
    # tls_trust_internal_ca: a boolean
    (
        "trust_internal_ca",
        ("tls_trust_internal_ca",),
        st.one_of(
            st.text(max_size=8).filter(lambda s: s.lower() not in BOOLEAN_WORDS),
            st.integers(),
            st.lists(st.booleans(), max_size=2),
            st.none(),
        ),
        lambda v: inputs(tls_trust_internal_ca=v),
    ),
    # tls_apt_cache_valid_time: 0 to a year, in seconds
    (
        "apt_cache_valid_time",
        ("tls_apt_cache_valid_time",),
        st.one_of(out_of_range(0, 31_536_000), non_integers()),
        lambda v: inputs(tls_apt_cache_valid_time=v),
    ),
]


@pytest.mark.parametrize(
    ("field", "strategy", "build"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
@BAD_VALUES
@given(data=st.data())
def test_a_bad_value_is_refused_naming_the_field(field, strategy, build, data):
    for value in bad_values_of(data, strategy):
        problems = problems_of(build(value))
        assert names(problems, *field), (value, problems)


def test_every_field_of_the_argument_spec_has_cases():
    from pathlib import Path

    import yaml

    spec = yaml.safe_load((Path(__file__).parents[4] / "roles/tls/meta/argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    covered = " ".join(" ".join(case[1]) for case in CASES) + " private_key"
    # tls_acme_ca_bundle is PEM text that is parsed, never written as given (test below).
    for name in options:
        assert name in covered or name == "tls_acme_ca_bundle", name
    for key in options["tls_certificates"]["options"]:
        assert key in covered or key in ("certificate", "chain"), key


# --- a provided private key never appears in a message ------------------------------------


def _pem_pair():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.example.org")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


CERTIFICATE = _pem_pair()
SECRET = st.text(PRINTABLE + "".join(CONTROL_CHARS[:3]), min_size=12, max_size=60)


@settings(max_examples=200)  # rendering or parsing per example: fewer, still varied
@given(
    secret=st.one_of(
        SECRET, SECRET.map(lambda s: f"-----BEGIN PRIVATE KEY-----\n{s}\n-----END PRIVATE KEY-----\n")
    )
)
def test_a_provided_private_key_is_never_shown(secret):
    problems = problems_of(certificate(provider="provided", certificate=CERTIFICATE, private_key=secret))
    assert names(problems, "tls_certificates[0]", "private_key")
    shown = "\n".join(problems)
    assert secret not in shown and repr(secret)[1:-1] not in shown
    assert secret.strip()[:12] not in shown


@settings(max_examples=200)  # rendering or parsing per example: fewer, still varied
@given(
    bundle=st.one_of(any_text().filter(lambda s: s and "-----BEGIN CERTIFICATE-----" not in s), non_strings())
)
def test_an_acme_ca_bundle_without_a_certificate_is_refused(bundle):
    problems = problems_of(inputs(tls_acme_ca_bundle=bundle))
    assert (not bundle and not problems) or refused(problems, "tls_acme_ca_bundle")


# --- generated valid input is accepted ------------------------------------------------------

ALNUM = LOWER + string.digits
LABEL = st.builds(
    lambda head, middle, tail: head + middle + tail if middle else head,
    st.sampled_from(ALNUM),
    st.text(ALNUM + "-", max_size=8),
    st.sampled_from(ALNUM),
)
DOMAIN = st.builds(lambda a, b: f"{a}.{b}.example", LABEL, LABEL)
NAME = st.builds(lambda head, tail: head + tail, st.sampled_from(ALNUM), st.text(ALNUM + "_.-", max_size=12))
POSIX = st.builds(
    lambda head, tail: head + tail, st.sampled_from(LOWER + "_"), st.text(ALNUM + "_-", max_size=12)
)
SEGMENT = st.builds(
    lambda head, tail: head + tail, st.sampled_from(ALNUM + "_"), st.text(ALNUM + "_.-", max_size=8)
)


def _certificate(draw_name, draw):
    provider = draw(st.sampled_from(["acme", "internal_ca", "selfsigned"]))
    domains = draw(st.lists(DOMAIN, min_size=1, max_size=3, unique=True))
    if provider != "acme" and draw(st.booleans()):
        domains = ["*." + domains[0], *domains[1:]]
    item = {"name": draw_name, "domains": domains, "provider": provider}
    if draw(st.booleans()):
        item["key_type"] = draw(st.sampled_from(sorted(role.KEY_TYPES)))
    if provider != "acme" and draw(st.booleans()):
        item["days"] = draw(st.integers(1, 3650))
    return item


@st.composite
def valid_inputs(draw):
    names_ = draw(st.lists(NAME, max_size=3, unique=True))
    segment = SEGMENT
    return inputs(
        tls_certificates=[_certificate(name, draw) for name in names_],
        tls_acme_directory=draw(
            st.one_of(
                st.sampled_from(["letsencrypt", "letsencrypt_staging"]),
                st.builds(
                    lambda host, port, path: f"https://{host}:{port}/{path}",
                    DOMAIN,
                    st.integers(1, 65535),
                    st.text(string.ascii_letters + string.digits + "._~/-", max_size=20),
                ),
            )
        ),
        tls_acme_email=draw(st.one_of(st.just(""), st.builds(lambda a, d: f"{a}@{d}", LABEL, DOMAIN))),
        tls_acme_webroot="/" + "/".join(draw(st.lists(segment, min_size=1, max_size=4))),
        tls_renew_fraction=draw(st.integers(2, 100)),
        tls_internal_ca_name=draw(NAME),
        tls_internal_ca_host=draw(st.sampled_from(INVENTORY)),
        tls_internal_ca_dir=draw(st.sampled_from(["/", "~/"]))
        + "/".join(draw(st.lists(segment, min_size=1, max_size=3))),
        tls_key_group=draw(POSIX),
        tls_key_group_members=draw(st.lists(POSIX.filter(lambda s: s != "root"), max_size=3)),
        tls_trust_internal_ca=draw(st.one_of(st.booleans(), st.sampled_from(["yes", "no", "true", "false"]))),
        tls_apt_cache_valid_time=draw(st.integers(0, 31_536_000)),
    )


@settings(max_examples=60)
@given(values=valid_inputs())
def test_valid_input_is_accepted(values):
    model, problems = role.validate(values, Context())
    assert problems == [], problems
    assert [cert["name"] for cert in model["certificates"]] == [c["name"] for c in values["tls_certificates"]]
