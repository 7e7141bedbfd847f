# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests of groundwork.server.apache (issue 16): every input field of the role, driven
with generated bad values of each class that applies to it (tests/unit/bad_values.py), through
the role's real validation (_apache_role.validate, what the action groundwork.server.role_plan
calls), must be refused with a message that names the field. The site model is nginx's too
(test_properties_nginx.py drives the same fields through nginx's validation). Free text that is accepted is
rendered with the role's real site template and must stay inside its token; valid generated
sites are accepted (so that the refusals cannot come from refusing everything)."""

from __future__ import annotations

import copy
import ipaddress
import re
import string
from pathlib import Path

import jinja2
import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_plan as apache
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_role as role
from bad_values import (
    CONTROL_CHARS,
    bad_package_names,
    bad_paths,
    bad_ports,
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

PREFIX = "apache"
TEMPLATES = Path(__file__).resolve().parents[4] / "roles" / "apache" / "templates"
DEFAULTS = {
    "apache_sites": [],
    "apache_upstreams": [],
    "apache_certificates": ["shop"],
    "apache_max_request_workers": "auto",
    "apache_keepalive_timeout": 30,
    "apache_keepalive_requests": 1000,
    "apache_timeout": 60,
    "apache_client_max_body_size": "1m",
    "apache_compression_level": 2,
    "apache_hsts_max_age": 63072000,
    "apache_security_headers": True,
    "apache_ssl_session_cache_size": "10m",
    "apache_acme_webroot": "/var/lib/groundwork/acme",
    "apache_modules": [],
    "apache_packages": [],
}
SITE = {"name": "shop", "server_names": ["shop.test"], "root": "/srv/www"}
UPSTREAM = {"name": "app", "servers": [{"address": "app1:8000"}]}
AT_SITE = f"{PREFIX}_sites[0] (shop): "
AT_UPSTREAM = f"{PREFIX}_upstreams[0] (app): "
DEBIAN = {"id": "debian", "version_id": "13"}


class Context:
    host = "lb1"
    check_mode = False

    def __init__(self, hostvars=None):
        self.groups = {"appservers": ["app1", "app2"], "loadbalancers": ["lb1"]}
        self.hostvars = hostvars or {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}}


def problems(changes, hostvars=None):
    values = dict(DEFAULTS, **changes)
    return role.validate(values, Context(hostvars))[1]


def site(**keys):
    return {f"{PREFIX}_sites": [dict(SITE, **keys)], f"{PREFIX}_upstreams": [UPSTREAM]}


def location(**keys):
    return site(locations=[dict({"path": "/x"}, **keys)])


def upstream(**keys):
    return {
        f"{PREFIX}_upstreams": [dict(UPSTREAM, **keys)],
        f"{PREFIX}_sites": [dict(SITE, root=None, upstream="app")],
    }


def server(**keys):
    return upstream(servers=[dict({"address": "app1:8000"}, **keys)])


def setting(name):
    return lambda value: {f"{PREFIX}_{name}": value}


# --- generated bad values, the classes of issue 16 -----------------------------------------

WORD = string.ascii_letters + string.digits


def nginx_token_enders():
    """Strings with a character that ends or opens a token of nginx's or Apache's syntax."""
    return with_one_of(" \t;{}'\"#\\$<>", WORD)


def variables():
    """Text with a '$name' or '${' a server would read as a variable."""
    return st.builds(
        lambda head, name, tail: f"{head}${name}{tail}",
        st.text(WORD + " -./", max_size=8),
        st.from_regex(r"[A-Za-z_{][A-Za-z0-9_]{0,6}", fullmatch=True),
        st.text(WORD, max_size=4),
    )


def bad_times(positive=True):
    """Times nginx does not read, or out of range: units twice or smallest first, spaces,
    words, more than a year, zero where a time-out must pass."""
    units = ["y", "M", "w", "d", "h", "m", "s", "ms"]
    out_of_order = st.builds(
        lambda a, b, i, j: f"{a}{units[max(i, j)]}{b}{units[min(i, j)]}",
        st.integers(1, 99),
        st.integers(1, 99),
        st.integers(0, 7),
        st.integers(0, 7),
    )
    values = [
        out_of_order,
        st.integers(2, 999).map(lambda n: f"{n}y"),
        st.integers(31536001, 10**12).map(str),
        with_one_of(" ;'\"{}", "0123456789smh", min_size=1),
        control_strings("0123456789smh"),
        st.text(string.ascii_letters, min_size=1, max_size=6).filter(
            lambda t: not re.fullmatch("[smhdwMy]+", t)
        ),
        non_strings().filter(lambda v: not isinstance(v, str)),
    ]
    if positive:
        values.append(st.sampled_from(["0", "0s", "0ms", "0m0s"]))
    return st.one_of(values)


def not_addresses():
    """Entries of allow/deny that are no address or network: a zone, a token ender, a word."""
    zone = st.builds(lambda z: f"fe80::1%{z}", st.text(WORD + ";  {}", min_size=1, max_size=8))
    return st.one_of(zone, with_one_of(" ;{}#'\"%", "0123456789./"), control_strings("0123456789."))


def bad_hosts():
    """Host names or addresses nginx would not read as one."""
    return st.one_of(
        with_one_of(" ;{}#'\"$\\/_%", WORD, min_size=1),
        control_strings(WORD),
        st.builds(lambda z: f"fe80::1%{z}", st.text(WORD + "; ", min_size=1, max_size=6)),
    )


def bad_header_names():
    return st.one_of(
        with_one_of(" ;{}#'\"$\\:()%!&*+.^`|~,/", WORD),
        control_strings(WORD),
        st.just(""),
    )


def not_in(strategy, allowed):
    return strategy.filter(lambda value: not _member(value, allowed))


def _member(value, allowed):
    try:
        return value in allowed
    except TypeError:
        return False


def bad_fs_paths(final_slash=False):
    """bad_paths (without the final '/' an alias may have), and paths with characters nginx
    would read as a token's end or a variable."""
    paths = bad_paths()
    if final_slash:
        paths = paths.filter(lambda p: not re.fullmatch(r"(/[a-z0-9_-]+)+/", p))
    return st.one_of(paths, st.builds(lambda p: "/srv/" + p, with_one_of(" ;{}'\"$\\#", WORD)))


def bad_uri_paths():
    return st.one_of(
        st.builds(lambda p: "/" + p, with_one_of(" ;{}'\"\\", WORD)),
        st.builds(lambda p: "/" + p, control_strings(WORD)),
        st.text(WORD, min_size=1, max_size=8),  # not starting with '/'
    )


def unsafe_apache_lines():
    """raw_apache lines that could leave their place: a section (<...>), a final backslash
    (continued on the next line), control characters, nothing."""
    word = st.text(string.ascii_letters, min_size=1, max_size=8)
    return st.one_of(
        st.builds(lambda d, v: f"<{d} {v}>", word, word),
        st.builds(lambda d, v: f"</{d}>", word, word),
        st.builds(lambda d, v: f"  <{d}>", word, word),
        st.builds(lambda d, v: f"{d} {v}\\", word, word),
        control_strings(string.ascii_letters + " "),
        st.sampled_from(["", "   "]),
    )


def unclosed_nginx_lines():
    """raw_nginx lines that would not stay on their line: a quote left open, a final
    backslash, a directive without ';', braces, control characters."""
    word = st.text(string.ascii_lowercase, min_size=1, max_size=8)
    return st.one_of(
        st.builds(lambda d, q, v: f"{d} {q}{v};", word, st.sampled_from(["'", '"']), word),
        st.builds(lambda d, v: f"{d} {v}", word, word),
        st.builds(lambda d, v: f"{d} {v};\\", word, word),
        st.builds(lambda d, b: f"{d} {b};", word, with_one_of("{}", string.ascii_lowercase)),
        control_strings(string.ascii_lowercase + " ;"),
    )


# 500 values per field and role: the site model's fields get 1000 across the two web-server
# roles' tests (test_properties_apache.py), within the time the suite may take.
BATCHES, BATCH = 50, 10
# (id, the field as messages name it, inputs of a value, strategy)
FIELDS = [
    (
        "site name",
        f"{PREFIX}_sites[0]",
        lambda v: site(name=v),
        st.one_of(escaping_names(), control_strings(), non_strings()),
    ),
    (
        "server name",
        "server_names[0]",
        lambda v: site(server_names=[v]),
        st.one_of(nginx_token_enders(), control_strings(), non_strings()),
    ),
    ("port", AT_SITE + "port ", lambda v: site(port=v), st.one_of(bad_ports(), non_integers())),
    (
        "tls port",
        AT_SITE + "tls.port",
        lambda v: site(tls={"certificate": "shop", "port": v}),
        st.one_of(bad_ports(), non_integers()),
    ),
    (
        "tls certificate",
        AT_SITE + "tls.certificate",
        lambda v: site(tls={"certificate": v}),
        not_in(st.one_of(st.text(max_size=12), non_strings()), ["shop"]),
    ),
    (
        "certificates",
        f"{PREFIX}_certificates[0]",
        lambda v: {f"{PREFIX}_certificates": [v]},
        st.one_of(escaping_names(), nginx_token_enders(), control_strings(), non_strings()),
    ),
    ("root", AT_SITE + "root", lambda v: site(root=v), st.one_of(bad_fs_paths(), non_strings())),
    (
        "index",
        AT_SITE + "index[0]",
        lambda v: site(index=[v]),
        st.one_of(
            nginx_token_enders(),
            control_strings(),
            escaping_names().filter(lambda n: ".." in n or n == "."),
            non_strings(),
        ),
    ),
    (
        "site upstream",
        AT_SITE + "upstream",
        lambda v: site(upstream=v),
        not_in(st.one_of(st.text(max_size=12), non_strings()), ["app"]),
    ),
    (
        "location path",
        AT_SITE + "locations[0].path",
        lambda v: location(path=v),
        st.one_of(bad_uri_paths(), non_strings()),
    ),
    (
        "regex location path",
        AT_SITE + "locations[0].path",
        lambda v: location(path=v, match="regex"),
        st.one_of(
            with_one_of(" ;'\"{}", WORD),
            control_strings(),
            st.builds(lambda p: p + "\\", st.text(WORD, max_size=6)),
        ),
    ),
    (
        "location match",
        AT_SITE + "locations[0].match",
        lambda v: location(match=v),
        not_in(
            st.one_of(st.text(max_size=10), non_strings()),
            ("prefix", "exact", "regex", "iregex", "priority"),
        ),
    ),
    (
        "location proxy",
        AT_SITE + "locations[0].proxy",
        lambda v: location(proxy=v),
        not_in(st.one_of(st.text(max_size=12), non_strings()), ["app"]),
    ),
    (
        "proxy_path",
        AT_SITE + "locations[0].proxy_path",
        lambda v: location(proxy="app", proxy_path=v),
        st.one_of(bad_uri_paths(), variables().map(lambda t: "/" + t.replace(" ", ""))),
    ),
    (
        "location root",
        AT_SITE + "locations[0].root",
        lambda v: location(root=v),
        bad_fs_paths(final_slash=True),
    ),
    (
        "location alias",
        AT_SITE + "locations[0].alias",
        lambda v: location(alias=v),
        bad_fs_paths(final_slash=True),
    ),
    (
        "return code",
        AT_SITE + "locations[0].return.code",
        lambda v: location(**{"return": {"code": v, "target": "x y"}}),
        st.one_of(out_of_range(200, 599), non_integers()),
    ),
    (
        "return target",
        AT_SITE + "locations[0].return.target",
        lambda v: location(**{"return": {"code": 200, "target": v}}),
        st.one_of(control_strings(WORD + " "), variables(), with_one_of("{}", WORD)),
    ),
    ("header name", AT_SITE + "headers name", lambda v: site(headers={v: "x"}), bad_header_names()),
    (
        "header value",
        AT_SITE + "headers.X-Test",
        lambda v: site(headers={"X-Test": v}),
        st.one_of(control_strings(WORD + " "), variables(), with_one_of("{}", WORD)),
    ),
    (
        "location header",
        AT_SITE + "locations[0].headers.X-Test",
        lambda v: location(headers={"X-Test": v}),
        st.one_of(control_strings(WORD + " "), variables()),
    ),
    (
        "redirect from",
        AT_SITE + "redirects[0].from",
        lambda v: site(redirects=[{"from": v, "to": "/b"}]),
        st.one_of(bad_uri_paths(), non_strings()),
    ),
    (
        "redirect to",
        AT_SITE + "redirects[0].to",
        lambda v: site(redirects=[{"from": "/a", "to": v}]),
        st.one_of(control_strings(WORD + "/:"), variables(), with_one_of(" '\"{}", WORD + "/:")),
    ),
    (
        "redirect code",
        AT_SITE + "redirects[0].code",
        lambda v: site(redirects=[{"from": "/a", "to": "/b", "code": v}]),
        not_in(st.one_of(st.integers(), non_integers()), (301, 302, 303, 307, 308)),
    ),
    (
        "body size",
        AT_SITE + "client_max_body_size",
        lambda v: site(client_max_body_size=v),
        st.one_of(
            with_one_of(" ;{}'\"tT", "0123456789", min_size=1),
            control_strings("0123456789m"),
            st.integers(1025, 10**15).map(lambda n: f"{n}g"),
            non_strings().filter(lambda v: not isinstance(v, str)),
        ),
    ),
    (
        "rate",
        AT_SITE + "rate_limit.rate",
        lambda v: site(rate_limit={"rate": v}),
        st.one_of(
            with_one_of(" ;{}'\"", "0123456789r/s"),
            st.integers(0, 99).map(lambda n: f"{n}r/h"),
            st.just("0r/s"),
            control_strings("0123456789r/s"),
        ),
    ),
    (
        "burst",
        AT_SITE + "rate_limit.burst",
        lambda v: site(rate_limit={"rate": "10r/s", "burst": v}),
        st.one_of(out_of_range(0, 100000), non_integers()),
    ),
    ("allow", AT_SITE + "allow[0]", lambda v: site(allow=[v]), not_addresses()),
    ("deny", AT_SITE + "deny[0]", lambda v: site(deny=[v]), not_addresses()),
    (
        "realm",
        AT_SITE + "basic_auth.realm",
        lambda v: site(basic_auth={"realm": v, "users": [{"name": "u", "password": "p"}]}),
        st.one_of(control_strings(WORD + " "), variables(), with_one_of('"{}', WORD)),
    ),
    (
        "basic auth user",
        AT_SITE + "basic_auth.users[0].name",
        lambda v: site(basic_auth={"users": [{"name": v, "password": "p"}]}),
        st.one_of(
            with_one_of(": \t", WORD),
            control_strings(WORD),
            st.builds(lambda n: "#" + n, st.text(WORD, max_size=8)),
            st.text(WORD, min_size=65, max_size=80),
            non_strings(),
        ),
    ),
    ("raw_apache", AT_SITE + "raw_apache[0]", lambda v: site(raw_apache=[v]), unsafe_apache_lines()),
    (
        "location raw_apache",
        AT_SITE + "locations[0].raw_apache[0]",
        lambda v: location(raw_apache=[v]),
        unsafe_apache_lines(),
    ),
    (
        "security_headers",
        AT_SITE + "security_headers",
        lambda v: site(security_headers=v),
        non_strings().filter(lambda v: not isinstance(v, bool)),
    ),
    (
        "upstream name",
        f"{PREFIX}_upstreams[0]",
        lambda v: {f"{PREFIX}_upstreams": [dict(UPSTREAM, name=v)]},
        st.one_of(escaping_names(), nginx_token_enders(), control_strings(), non_strings()),
    ),
    (
        "method",
        AT_UPSTREAM + "method",
        lambda v: upstream(method=v),
        not_in(
            st.one_of(st.text(max_size=12), non_strings()),
            ("round_robin", "least_connections", "client_address", "hash", "least_conn", "ip_hash"),
        ),
    ),
    (
        "hash_key",
        AT_UPSTREAM + "hash_key",
        lambda v: upstream(method="hash", hash_key=v),
        st.one_of(
            with_one_of(" ;{}'\"#", WORD + "$"),
            control_strings(WORD + "$"),
            st.builds(
                lambda k, n: f"{k}:{n}",
                st.sampled_from(["header", "cookie", "query"]),
                with_one_of(" ;{}'\"", WORD),
            ),
        ),
    ),
    (
        "keepalive",
        AT_UPSTREAM + "keepalive",
        lambda v: upstream(keepalive=v),
        st.one_of(out_of_range(0, 10000), non_integers()),
    ),
    (
        "next_upstream_tries",
        AT_UPSTREAM + "next_upstream_tries",
        lambda v: upstream(next_upstream_tries=v),
        st.one_of(out_of_range(1, 100), non_integers()),
    ),
    (
        "next_upstream",
        AT_UPSTREAM + "next_upstream[0]",
        lambda v: upstream(next_upstream=[v]),
        not_in(
            st.one_of(st.text(max_size=12), st.integers()),
            (
                "error",
                "timeout",
                "invalid_header",
                "500",
                "502",
                "503",
                "504",
                "403",
                "404",
                "429",
                "non_idempotent",
                "off",
                500,
                502,
                503,
                504,
                403,
                404,
                429,
                *(f"http_{c}" for c in (500, 502, 503, 504, 403, 404, 429)),
            ),
        ),
    ),
    ("connect_timeout", AT_UPSTREAM + "connect_timeout", lambda v: upstream(connect_timeout=v), bad_times()),
    ("read_timeout", AT_UPSTREAM + "read_timeout", lambda v: upstream(read_timeout=v), bad_times()),
    (
        "next_upstream_timeout",
        AT_UPSTREAM + "next_upstream_timeout",
        lambda v: upstream(next_upstream_timeout=v),
        bad_times(positive=False),
    ),
    (
        "server address",
        AT_UPSTREAM + "servers[0].address",
        lambda v: server(address=v),
        st.one_of(
            bad_hosts().map(lambda h: h + ":8000"),
            bad_ports().map(lambda p: f"app1:{p}"),
            st.from_regex(r"\[[0-9]{1,3}(\.[0-9]{1,3}){3}\]:80", fullmatch=True),
            non_strings(),
        ),
    ),
    (
        "server weight",
        AT_UPSTREAM + "servers[0].weight",
        lambda v: server(weight=v),
        st.one_of(out_of_range(1, 1000), non_integers()),
    ),
    (
        "server max_fails",
        AT_UPSTREAM + "servers[0].max_fails",
        lambda v: server(max_fails=v),
        st.one_of(out_of_range(0, 1000), non_integers()),
    ),
    (
        "server fail_timeout",
        AT_UPSTREAM + "servers[0].fail_timeout",
        lambda v: server(fail_timeout=v),
        bad_times(positive=False),
    ),
    (
        "server group",
        AT_UPSTREAM + "servers[0].group",
        lambda v: upstream(servers=[{"group": v, "port": 8000}]),
        not_in(st.one_of(st.text(max_size=12), non_strings()), ["appservers", "loadbalancers"]),
    ),
    (
        "server port",
        AT_UPSTREAM + "servers[0].port",
        lambda v: upstream(servers=[{"group": "appservers", "port": v}]),
        st.one_of(bad_ports(), non_integers()),
    ),
    ("packages", f"{PREFIX}_packages[0]", lambda v: {f"{PREFIX}_packages": [v]}, bad_package_names()),
    (
        "acme webroot",
        f"{PREFIX}_acme_webroot",
        setting("acme_webroot"),
        st.one_of(
            bad_paths(),
            st.sampled_from(["/", "/etc", "/etc/nginx", "/usr/lib/x", "/root/acme", "/var/libx/y"]),
            with_one_of(" ;{}'\"$", WORD).map(lambda p: "/srv/" + p),
        ),
    ),
    (
        "hsts_max_age",
        f"{PREFIX}_hsts_max_age",
        setting("hsts_max_age"),
        st.one_of(out_of_range(0, 10**9), non_integers()),
    ),
    (
        "security_headers default",
        f"{PREFIX}_security_headers",
        setting("security_headers"),
        non_strings().filter(lambda v: not isinstance(v, bool)),
    ),
    (
        "modules",
        f"{PREFIX}_modules",
        lambda v: {f"{PREFIX}_modules": [v]},
        st.one_of(
            escaping_names(),
            nginx_token_enders(),
            control_strings(),
            st.sampled_from(["mpm_prefork", "mpm_worker"]),
        ),
    ),
    (
        "max_request_workers",
        f"{PREFIX}_max_request_workers",
        setting("max_request_workers"),
        st.one_of(
            st.integers(max_value=9), st.integers(min_value=10**6), with_one_of(" ;{}<>", "0123456789")
        ),
    ),
    (
        "keepalive_timeout",
        f"{PREFIX}_keepalive_timeout",
        setting("keepalive_timeout"),
        st.one_of(
            st.integers(max_value=0), st.integers(min_value=10**4), with_one_of(" ;{}<>s", "0123456789")
        ),
    ),
    (
        "timeout",
        f"{PREFIX}_timeout",
        setting("timeout"),
        st.one_of(
            st.integers(max_value=0), st.integers(min_value=10**5), with_one_of(" ;{}<>m", "0123456789")
        ),
    ),
    (
        "compression_level",
        f"{PREFIX}_compression_level",
        setting("compression_level"),
        st.one_of(out_of_range(1, 9), with_one_of(" ;{}", "123")),
    ),
    (
        "global body size",
        f"{PREFIX}_client_max_body_size",
        setting("client_max_body_size"),
        st.one_of(
            with_one_of(" ;{}'\"tT", "0123456789", min_size=1), st.integers(3, 99).map(lambda n: f"{n}g")
        ),
    ),
]


@pytest.mark.parametrize(("field", "build", "values"), [f[1:] for f in FIELDS], ids=[f[0] for f in FIELDS])
@settings(max_examples=BATCHES)
@given(data=st.data())
def test_every_bad_value_is_refused_naming_its_field(field, build, values, data):
    """BATCHES x BATCH generated values per field (drawn in batches: hypothesis' cost is per
    example)."""
    for value in data.draw(st.lists(values, min_size=BATCH, max_size=BATCH), label="values"):
        assert refused(problems(build(value)), field), value


@settings(max_examples=100)
@given(
    member=st.one_of(bad_hosts(), st.just("")),
)
def test_an_inventory_address_that_is_no_host_is_refused_naming_the_group(member):
    """ansible_host of a group's host is written into the upstream: it is checked like an address."""
    hostvars = {"app1": {"ansible_host": member}, "app2": {}} if member else {"app1": {}, "app2": {}}
    found = problems(upstream(servers=[{"group": "appservers", "port": 8000}]), hostvars)
    if member:
        assert refused(found, AT_UPSTREAM + "servers[0].group")
    else:
        assert found == []


@settings(max_examples=200)
@given(name=st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True).filter(lambda n: n != "shop"))
def test_a_certificate_the_tls_model_of_the_host_does_not_have_is_refused(name):
    tls = [{"name": "shop", "type": "selfsigned"}]
    found = problems({f"{PREFIX}_certificates": ["shop", name], "tls_certificates": tls})
    assert refused(found, f"{PREFIX}_certificates[1]")
    assert problems({f"{PREFIX}_certificates": ["shop"], "tls_certificates": tls}) == []


@settings(max_examples=100)
@given(password=st.text(min_size=1, max_size=20).filter(lambda p: "\n" in p or "\r" in p or len(p) > 0))
def test_a_password_never_appears_in_a_refusal(password):
    bad = "\n" + password
    found = problems(site(basic_auth={"realm": "a\nb", "users": [{"name": "u:x", "password": bad}]}))
    assert found and not any(
        bad in message or (len(password) > 3 and password in message) for message in found
    )


# --- valid values are accepted, and free text is rendered safely -------------------------

HOST_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
HOSTNAME = st.lists(HOST_LABEL, min_size=1, max_size=3).map(".".join)
SEGMENT = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=8)
PATH = st.lists(SEGMENT, min_size=1, max_size=3).map(lambda p: "/" + "/".join(p))
# Free text as a user writes it: any printable character but braces and '$' (and control).
FREE_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="{}$\x85"),
    min_size=1,
    max_size=30,
).filter(lambda t: t.strip())
ADDRESS = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.builds(
        lambda a, n: str(ipaddress.ip_network(f"{a}/{n}", strict=False)),
        st.ip_addresses(v=4),
        st.integers(8, 32),
    ),
)


@st.composite
def valid_inputs(draw):
    name = draw(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True))
    header = draw(st.from_regex(r"X-[A-Za-z0-9][A-Za-z0-9_-]{0,12}", fullmatch=True))
    path = draw(PATH)
    time = draw(st.sampled_from(["1s", "500ms", "1m30s", "2h", "10", "1d12h"]))
    tls = draw(st.booleans())
    values = {
        f"{PREFIX}_upstreams": [
            {
                "name": "app",
                "servers": [
                    {
                        "address": f"{draw(HOSTNAME)}:{draw(st.integers(1, 65535))}",
                        "weight": draw(st.integers(1, 100)),
                    }
                ],
                "connect_timeout": time,
                "send_timeout": time,
                "read_timeout": time,
            }
        ],
        f"{PREFIX}_sites": [
            {
                "name": name,
                "server_names": draw(st.lists(HOSTNAME, min_size=1, max_size=3, unique=True)),
                "port": draw(st.sampled_from([80, 8080, 8081])),
                **({"tls": {"certificate": "shop", "port": 8443}} if tls else {}),
                "root": draw(PATH),
                "index": [draw(st.from_regex(r"[a-z0-9_-]{1,10}\.html", fullmatch=True))],
                "headers": {header: draw(FREE_TEXT)},
                "locations": [
                    {"path": path, "proxy": "app", "proxy_path": draw(PATH)},
                    {
                        "path": path + "-old",
                        "match": "exact",
                        "return": {"code": 200, "target": draw(FREE_TEXT)},
                    },
                    {"path": path + "-alias/", "alias": draw(PATH) + "/"},
                ],
                "redirects": [{"from": draw(PATH) + ".html", "to": "https://" + draw(HOSTNAME) + draw(PATH)}],
                "allow": draw(st.lists(ADDRESS, max_size=3)),
                "basic_auth": {
                    "realm": draw(FREE_TEXT.filter(lambda t: '"' not in t)),
                    "users": [
                        {
                            "name": draw(st.from_regex(r"[A-Za-z0-9_.@-]{1,20}", fullmatch=True)),
                            "password": draw(FREE_TEXT),
                        }
                    ],
                },
            }
        ],
    }
    return values


def test_the_defaults_are_accepted():
    assert problems({}) == []


@settings(max_examples=100)
@given(values=valid_inputs())
def test_valid_generated_sites_are_accepted(values):
    assert problems(values) == []


def _comment(text):
    return "\n".join("# " + line for line in str(text).splitlines())


def _regex_replace(value, pattern, replacement):
    return re.sub(pattern, replacement.replace("\\1", r"\1"), value)


ENV = jinja2.Environment(  # noqa: S701 (Apache's syntax, not HTML)
    loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True, undefined=jinja2.StrictUndefined
)
ENV.filters.update(comment=_comment, combine=lambda a, b: {**a, **b}, regex_replace=_regex_replace)


def render_site(values):
    model, found = role.validate(dict(copy.deepcopy(DEFAULTS), **values), Context())
    assert found == []
    tuning = dict(apache.constants(), **apache.tuning(model, {"version": "2.4.65", "ocsp": {}}, "lb1"))
    template = ENV.get_template("site.conf.j2")
    return template.render(
        site=model["sites"][0], __apache_model=model, __apache=tuning, ansible_managed="managed"
    )


def apache_lines(text):
    """Apache's reading of a configuration: one directive per line (a final backslash joins
    the next), each line split into words as ap_getword_conf does (a word in double or single
    quotes, where a backslash escapes the quote and itself)."""
    assert not re.search(r"\\\n", text), "a line continues on the next"
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words, i = [], 0
        while i < len(line):
            if line[i].isspace():
                i += 1
                continue
            quote = line[i] if line[i] in "\"'" else None
            if quote:
                word, i = "", i + 1
                while i < len(line) and line[i] != quote:
                    if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in (quote, "\\"):
                        i += 1
                    word += line[i]
                    i += 1
                assert i < len(line), f"a quote left open: {line!r}"
                i += 1
            else:
                start = i
                while i < len(line) and not line[i].isspace():
                    i += 1
                word = line[start:i]
            words.append(word)
        found.append(words)
    return found


def balanced(lines):
    opened = sum(1 for words in lines if words[0].startswith("<") and not words[0].startswith("</"))
    return opened == sum(1 for words in lines if words[0].startswith("</"))


@settings(max_examples=100)
@given(values=valid_inputs())
def test_accepted_free_text_stays_inside_its_token(values):
    """Header values, realms and redirect targets are each one quoted word of their
    directive, exactly the text given ('%' doubled for mod_headers); sections stay balanced."""
    lines = apache_lines(render_site(values))
    site_in = values[f"{PREFIX}_sites"][0]
    header, value = next(iter(site_in["headers"].items()))
    assert ["Header", "always", "set", header, value.replace("%", "%%")] in lines
    assert ["AuthName", site_in["basic_auth"]["realm"]] in lines
    redirect = site_in["redirects"][0]
    assert ["RedirectMatch", "301", "^" + re.escape(redirect["from"]) + "$", redirect["to"]] in lines
    assert balanced(lines)


@settings(max_examples=200)
@given(text=st.one_of(FREE_TEXT, st.text(max_size=30)))
def test_a_header_value_is_refused_or_one_word_of_its_directive(text):
    values = site(headers={"X-Test": text})
    found = problems(values)
    if found:
        assert refused(found, AT_SITE + "headers.X-Test") or text == ""
        return
    if text == "":
        return
    assert ["Header", "always", "set", "X-Test", text.replace("%", "%%")] in apache_lines(render_site(values))


@settings(max_examples=100)
@given(
    lines=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30), min_size=1, max_size=3
    )
)
def test_raw_apache_lines_are_refused_or_stay_one_line_inside_the_virtual_host(lines):
    values = site(raw_apache=lines)
    found = problems(values)
    if found:
        assert refused(found, AT_SITE + "raw_apache[")
        return
    assert balanced(apache_lines(render_site(values)))


def test_control_characters_are_all_generated():
    """The control class reaches every character the shared check refuses."""
    assert len(CONTROL_CHARS) == 32 + 33 + 2
