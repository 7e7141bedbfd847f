# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The property tests of the site model that groundwork.server.nginx and groundwork.server.apache
share (issue 16): the same fields and the same classes of bad values, for a role's variable
prefix (``nginx``/``apache``) and its raw directive key (``raw_nginx``/``raw_apache``).

A role's test file (tests/unit/plugins/plugin_utils/test_properties_<role>.py) builds a
``SiteInputs`` for its prefix, validation and defaults, and subclasses ``SiteModelProperties``
as ``TestSiteModel`` with ``fields = site_fields(...) + its own fields``: every shared test then
runs through that role's validation. Import as ``from site_properties import ...`` (tests/unit
is on ``sys.path``, like bad_values.py)."""

from __future__ import annotations

import ipaddress
import re
import string

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
from role_properties import BAD_VALUES, SHARED, bad_values_of, not_in

SITE = {"name": "shop", "server_names": ["shop.test"], "root": "/srv/www"}
UPSTREAM = {"name": "app", "servers": [{"address": "app1:8000"}]}


class Context:
    host = "lb1"
    check_mode = False

    def __init__(self, hostvars=None):
        self.groups = {"appservers": ["app1", "app2"], "loadbalancers": ["lb1"]}
        self.hostvars = hostvars or {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}}


class SiteInputs:
    """A web-server role's inputs: its validation, defaults and variable prefix, and the
    input of one site, location, upstream or server changed by some keys."""

    def __init__(self, prefix, validate, defaults):
        self.prefix = prefix
        self.validate = validate
        self.defaults = defaults
        self.at_site = f"{prefix}_sites[0] (shop): "
        self.at_upstream = f"{prefix}_upstreams[0] (app): "

    def problems(self, changes, hostvars=None):
        """The messages of the role's validation of the defaults with ``changes``."""
        return self.validate(dict(self.defaults, **changes), Context(hostvars))[1]

    def site(self, **keys):
        return {f"{self.prefix}_sites": [dict(SITE, **keys)], f"{self.prefix}_upstreams": [UPSTREAM]}

    def location(self, **keys):
        return self.site(locations=[dict({"path": "/x"}, **keys)])

    def upstream(self, **keys):
        return {
            f"{self.prefix}_upstreams": [dict(UPSTREAM, **keys)],
            f"{self.prefix}_sites": [dict(SITE, root=None, upstream="app")],
        }

    def server(self, **keys):
        return self.upstream(servers=[dict({"address": "app1:8000"}, **keys)])

    def setting(self, name):
        return lambda value: {f"{self.prefix}_{name}": value}


# --- generated bad values, the classes of issue 16 -----------------------------------------

WORD = string.ascii_letters + string.digits


def token_enders(extra=""):
    """Strings with a character that ends or opens a token of nginx's syntax (and ``extra``:
    Apache's '<>')."""
    return with_one_of(" \t;{}'\"#\\$" + extra, WORD)


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
    """Host names or addresses a server would not read as one."""
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


def bad_fs_paths(final_slash=False):
    """bad_paths (without the final '/' an alias may have), and paths with characters a
    server would read as a token's end or a variable."""
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


def not_booleans():
    return non_strings().filter(lambda v: not isinstance(v, bool))


# --- the shared fields ----------------------------------------------------------------------


def site_fields(inputs, raw_key, raw_lines, enders):
    """The site model's fields: (id, the field as messages name it, inputs of a value,
    strategy), for the role of ``inputs``; ``raw_key`` is its raw directive key with the lines
    it must refuse (``raw_lines``), ``enders`` the strategy of its syntax's token enders."""
    prefix, at_site, at_upstream = inputs.prefix, inputs.at_site, inputs.at_upstream
    site, location, upstream, server = inputs.site, inputs.location, inputs.upstream, inputs.server
    return [
        (
            "site name",
            f"{prefix}_sites[0]",
            lambda v: site(name=v),
            st.one_of(escaping_names(), control_strings(), non_strings()),
        ),
        (
            "server name",
            "server_names[0]",
            lambda v: site(server_names=[v]),
            st.one_of(enders, control_strings(), non_strings()),
        ),
        ("port", at_site + "port ", lambda v: site(port=v), st.one_of(bad_ports(), non_integers())),
        (
            "tls port",
            at_site + "tls.port",
            lambda v: site(tls={"certificate": "shop", "port": v}),
            st.one_of(bad_ports(), non_integers()),
        ),
        (
            "tls certificate",
            at_site + "tls.certificate",
            lambda v: site(tls={"certificate": v}),
            not_in(st.one_of(st.text(max_size=12), non_strings()), ["shop"]),
        ),
        (
            "certificates",
            f"{prefix}_certificates[0]",
            lambda v: {f"{prefix}_certificates": [v]},
            st.one_of(escaping_names(), enders, control_strings(), non_strings()),
        ),
        ("root", at_site + "root", lambda v: site(root=v), st.one_of(bad_fs_paths(), non_strings())),
        (
            "index",
            at_site + "index[0]",
            lambda v: site(index=[v]),
            st.one_of(
                enders,
                control_strings(),
                escaping_names().filter(lambda n: ".." in n or n == "."),
                non_strings(),
            ),
        ),
        (
            "site upstream",
            at_site + "upstream",
            lambda v: site(upstream=v),
            not_in(st.one_of(st.text(max_size=12), non_strings()), ["app"]),
        ),
        (
            "location path",
            at_site + "locations[0].path",
            lambda v: location(path=v),
            st.one_of(bad_uri_paths(), non_strings()),
        ),
        (
            "regex location path",
            at_site + "locations[0].path",
            lambda v: location(path=v, match="regex"),
            st.one_of(
                with_one_of(" ;'\"{}", WORD),
                control_strings(),
                st.builds(lambda p: p + "\\", st.text(WORD, max_size=6)),
            ),
        ),
        (
            "location match",
            at_site + "locations[0].match",
            lambda v: location(match=v),
            not_in(
                st.one_of(st.text(max_size=10), non_strings()),
                ("prefix", "exact", "regex", "iregex", "priority"),
            ),
        ),
        (
            "location proxy",
            at_site + "locations[0].proxy",
            lambda v: location(proxy=v),
            not_in(st.one_of(st.text(max_size=12), non_strings()), ["app"]),
        ),
        (
            "proxy_path",
            at_site + "locations[0].proxy_path",
            lambda v: location(proxy="app", proxy_path=v),
            st.one_of(bad_uri_paths(), variables().map(lambda t: "/" + t.replace(" ", ""))),
        ),
        (
            "location root",
            at_site + "locations[0].root",
            lambda v: location(root=v),
            bad_fs_paths(final_slash=True),
        ),
        (
            "location alias",
            at_site + "locations[0].alias",
            lambda v: location(alias=v),
            bad_fs_paths(final_slash=True),
        ),
        (
            "return code",
            at_site + "locations[0].return.code",
            lambda v: location(**{"return": {"code": v, "target": "x y"}}),
            st.one_of(out_of_range(200, 599), non_integers()),
        ),
        (
            "return target",
            at_site + "locations[0].return.target",
            lambda v: location(**{"return": {"code": 200, "target": v}}),
            st.one_of(control_strings(WORD + " "), variables(), with_one_of("{}", WORD)),
        ),
        ("header name", at_site + "headers name", lambda v: site(headers={v: "x"}), bad_header_names()),
        (
            "header value",
            at_site + "headers.X-Test",
            lambda v: site(headers={"X-Test": v}),
            st.one_of(control_strings(WORD + " "), variables(), with_one_of("{}", WORD)),
        ),
        (
            "location header",
            at_site + "locations[0].headers.X-Test",
            lambda v: location(headers={"X-Test": v}),
            st.one_of(control_strings(WORD + " "), variables()),
        ),
        (
            "redirect from",
            at_site + "redirects[0].from",
            lambda v: site(redirects=[{"from": v, "to": "/b"}]),
            st.one_of(bad_uri_paths(), non_strings()),
        ),
        (
            "redirect to",
            at_site + "redirects[0].to",
            lambda v: site(redirects=[{"from": "/a", "to": v}]),
            st.one_of(control_strings(WORD + "/:"), variables(), with_one_of(" '\"{}", WORD + "/:")),
        ),
        (
            "redirect code",
            at_site + "redirects[0].code",
            lambda v: site(redirects=[{"from": "/a", "to": "/b", "code": v}]),
            not_in(st.one_of(st.integers(), non_integers()), (301, 302, 303, 307, 308)),
        ),
        (
            "body size",
            at_site + "client_max_body_size",
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
            at_site + "rate_limit.rate",
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
            at_site + "rate_limit.burst",
            lambda v: site(rate_limit={"rate": "10r/s", "burst": v}),
            st.one_of(out_of_range(0, 100000), non_integers()),
        ),
        ("allow", at_site + "allow[0]", lambda v: site(allow=[v]), not_addresses()),
        ("deny", at_site + "deny[0]", lambda v: site(deny=[v]), not_addresses()),
        (
            "realm",
            at_site + "basic_auth.realm",
            lambda v: site(basic_auth={"realm": v, "users": [{"name": "u", "password": "p"}]}),
            st.one_of(control_strings(WORD + " "), variables(), with_one_of('"{}', WORD)),
        ),
        (
            "basic auth user",
            at_site + "basic_auth.users[0].name",
            lambda v: site(basic_auth={"users": [{"name": v, "password": "p"}]}),
            st.one_of(
                with_one_of(": \t", WORD),
                control_strings(WORD),
                st.builds(lambda n: "#" + n, st.text(WORD, max_size=8)),
                st.text(WORD, min_size=65, max_size=80),
                non_strings(),
            ),
        ),
        (raw_key, at_site + f"{raw_key}[0]", lambda v: site(**{raw_key: [v]}), raw_lines),
        (
            f"location {raw_key}",
            at_site + f"locations[0].{raw_key}[0]",
            lambda v: location(**{raw_key: [v]}),
            raw_lines,
        ),
        (
            "security_headers",
            at_site + "security_headers",
            lambda v: site(security_headers=v),
            not_booleans(),
        ),
        (
            "upstream name",
            f"{prefix}_upstreams[0]",
            lambda v: {f"{prefix}_upstreams": [dict(UPSTREAM, name=v)]},
            st.one_of(escaping_names(), enders, control_strings(), non_strings()),
        ),
        (
            "method",
            at_upstream + "method",
            lambda v: upstream(method=v),
            not_in(
                st.one_of(st.text(max_size=12), non_strings()),
                ("round_robin", "least_connections", "client_address", "hash", "least_conn", "ip_hash"),
            ),
        ),
        (
            "hash_key",
            at_upstream + "hash_key",
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
            at_upstream + "keepalive",
            lambda v: upstream(keepalive=v),
            st.one_of(out_of_range(0, 10000), non_integers()),
        ),
        (
            "next_upstream_tries",
            at_upstream + "next_upstream_tries",
            lambda v: upstream(next_upstream_tries=v),
            st.one_of(out_of_range(1, 100), non_integers()),
        ),
        (
            "next_upstream",
            at_upstream + "next_upstream[0]",
            lambda v: upstream(next_upstream=[v]),
            not_in(
                st.one_of(st.text(max_size=12), st.integers()),
                (
                    "error",
                    "timeout",
                    "invalid_header",
                    "non_idempotent",
                    "off",
                    *(str(c) for c in (500, 502, 503, 504, 403, 404, 429)),
                    *(500, 502, 503, 504, 403, 404, 429),
                    *(f"http_{c}" for c in (500, 502, 503, 504, 403, 404, 429)),
                ),
            ),
        ),
        (
            "connect_timeout",
            at_upstream + "connect_timeout",
            lambda v: upstream(connect_timeout=v),
            bad_times(),
        ),
        ("read_timeout", at_upstream + "read_timeout", lambda v: upstream(read_timeout=v), bad_times()),
        (
            "next_upstream_timeout",
            at_upstream + "next_upstream_timeout",
            lambda v: upstream(next_upstream_timeout=v),
            bad_times(positive=False),
        ),
        (
            "server address",
            at_upstream + "servers[0].address",
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
            at_upstream + "servers[0].weight",
            lambda v: server(weight=v),
            st.one_of(out_of_range(1, 1000), non_integers()),
        ),
        (
            "server max_fails",
            at_upstream + "servers[0].max_fails",
            lambda v: server(max_fails=v),
            st.one_of(out_of_range(0, 1000), non_integers()),
        ),
        (
            "server fail_timeout",
            at_upstream + "servers[0].fail_timeout",
            lambda v: server(fail_timeout=v),
            bad_times(positive=False),
        ),
        (
            "server group",
            at_upstream + "servers[0].group",
            lambda v: upstream(servers=[{"group": v, "port": 8000}]),
            not_in(st.one_of(st.text(max_size=12), non_strings()), ["appservers", "loadbalancers"]),
        ),
        (
            "server port",
            at_upstream + "servers[0].port",
            lambda v: upstream(servers=[{"group": "appservers", "port": v}]),
            st.one_of(bad_ports(), non_integers()),
        ),
        ("packages", f"{prefix}_packages[0]", lambda v: {f"{prefix}_packages": [v]}, bad_package_names()),
        (
            "acme webroot",
            f"{prefix}_acme_webroot",
            inputs.setting("acme_webroot"),
            st.one_of(
                bad_paths(),
                st.sampled_from(["/", "/etc", "/etc/nginx", "/usr/lib/x", "/root/acme", "/var/libx/y"]),
                with_one_of(" ;{}'\"$", WORD).map(lambda p: "/srv/" + p),
            ),
        ),
        (
            "hsts_max_age",
            f"{prefix}_hsts_max_age",
            inputs.setting("hsts_max_age"),
            st.one_of(out_of_range(0, 10**9), non_integers()),
        ),
        (
            "security_headers default",
            f"{prefix}_security_headers",
            inputs.setting("security_headers"),
            not_booleans(),
        ),
    ]


# --- valid values ---------------------------------------------------------------------------

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
def valid_inputs(draw, prefix):
    """Valid sites and an upstream of the role with variable prefix ``prefix``: every free
    text (header value, fixed response, realm, redirect target) drawn from FREE_TEXT."""
    name = draw(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True))
    header = draw(st.from_regex(r"X-[A-Za-z0-9][A-Za-z0-9_-]{0,12}", fullmatch=True))
    path = draw(PATH)
    time = draw(st.sampled_from(["1s", "500ms", "1m30s", "2h", "10", "1d12h"]))
    tls = draw(st.booleans())
    return {
        f"{prefix}_upstreams": [
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
        f"{prefix}_sites": [
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


# --- the shared tests -----------------------------------------------------------------------


class SiteModelProperties:
    """The tests every web-server role's site model passes; a role's test file subclasses
    this as ``TestSiteModel`` and sets ``inputs`` (a SiteInputs) and ``fields`` (site_fields
    and its own, the same tuples)."""

    inputs: SiteInputs
    fields: tuple

    def pytest_generate_tests(self, metafunc):
        """Each of ``fields`` is one case of the test that asks for ``field``, by its id."""
        if "field" in metafunc.fixturenames:
            metafunc.parametrize(
                ("field", "build", "values"), [f[1:] for f in self.fields], ids=[f[0] for f in self.fields]
            )

    @BAD_VALUES
    @given(data=st.data())
    def test_every_bad_value_is_refused_naming_its_field(self, field, build, values, data):
        for value in bad_values_of(data, values):
            assert refused(self.inputs.problems(build(value)), field), value

    @settings(SHARED, max_examples=100)
    @given(member=st.one_of(bad_hosts(), st.just("")))
    def test_an_inventory_address_that_is_no_host_is_refused_naming_the_group(self, member):
        """ansible_host of a group's host is written into the upstream: it is checked like an
        address."""
        hostvars = {"app1": {"ansible_host": member}, "app2": {}} if member else {"app1": {}, "app2": {}}
        changes = self.inputs.upstream(servers=[{"group": "appservers", "port": 8000}])
        found = self.inputs.problems(changes, hostvars)
        if member:
            assert refused(found, self.inputs.at_upstream + "servers[0].group")
        else:
            assert found == []

    @settings(SHARED, max_examples=200)
    @given(name=st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True).filter(lambda n: n != "shop"))
    def test_a_certificate_the_tls_model_of_the_host_does_not_have_is_refused(self, name):
        tls = [{"name": "shop", "type": "selfsigned"}]
        key = f"{self.inputs.prefix}_certificates"
        assert refused(self.inputs.problems({key: ["shop", name], "tls_certificates": tls}), f"{key}[1]")
        assert self.inputs.problems({key: ["shop"], "tls_certificates": tls}) == []

    @settings(SHARED, max_examples=100)
    @given(password=st.text(min_size=1, max_size=20).filter(lambda p: "\n" in p or "\r" in p or len(p) > 0))
    def test_a_password_never_appears_in_a_refusal(self, password):
        bad = "\n" + password
        users = [{"name": "u:x", "password": bad}]
        found = self.inputs.problems(self.inputs.site(basic_auth={"realm": "a\nb", "users": users}))
        assert found and not any(
            bad in message or (len(password) > 3 and password in message) for message in found
        )

    def test_the_defaults_are_accepted(self):
        assert self.inputs.problems({}) == []

    @settings(SHARED, max_examples=100)
    @given(data=st.data())
    def test_valid_generated_sites_are_accepted(self, data):
        values = data.draw(valid_inputs(self.inputs.prefix), label="values")
        assert self.inputs.problems(values) == []

    def test_control_characters_are_all_generated(self):
        """The control class reaches every character the shared check refuses."""
        assert len(CONTROL_CHARS) == 32 + 33 + 2
