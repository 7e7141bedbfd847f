# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Take one server out of the load-balanced upstreams of nginx or Apache, or put it back.

Pure text logic. nginx: in every ``upstream NAME { ... }`` block, the ``server ADDRESS ...;``
lines naming the address get nginx's ``down`` parameter (drained) or lose it (active).
Apache: in every ``<Proxy "balancer://NAME">`` block, the ``BalancerMember "URL" ...``
lines whose URL has the address as host and port get the status flag ``+D`` (disabled: no
new requests) or lose it; the other flags (``+H``, a hot standby) and parameters stay.
A drain never leaves an upstream without a server to send requests to: such an
upstream is left alone and reported, since taking its last server out would turn a
restart into errors for every client instead of a short wait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

UPSTREAM_START = re.compile(r"^\s*upstream\s+(?P<name>[^\s{]+)\s*\{\s*(?:#.*)?$")
BLOCK_END = re.compile(r"^\s*\}\s*(?:#.*)?$")
SERVER = re.compile(r"^(?P<lead>\s*server\s+)(?P<address>[^\s;]+)(?P<params>[^;]*);(?P<rest>.*)$")


@dataclass
class Marked:
    text: str
    changed: list[str] = field(default_factory=list)  # upstreams whose line changed
    found: list[str] = field(default_factory=list)  # upstreams naming the server
    kept: list[str] = field(default_factory=list)  # drains refused: last server


@dataclass
class _Server:
    index: int  # line index
    address: str
    params: list[str]
    match: re.Match


def _blocks(lines: list[str]):
    """Yield (name, [server lines]) for each upstream block."""
    name, servers = None, []
    for index, line in enumerate(lines):
        if name is None:
            start = UPSTREAM_START.match(line)
            if start:
                name, servers = start.group("name"), []
            continue
        if BLOCK_END.match(line):
            yield name, servers
            name = None
            continue
        server = SERVER.match(line)
        if server:
            servers.append(_Server(index, server.group("address"), server.group("params").split(), server))


def _serving(servers: list[_Server]) -> list[_Server]:
    """Servers that take requests: neither down nor backup."""
    return [s for s in servers if "down" not in s.params and "backup" not in s.params]


def _render(server: _Server, params: list[str]) -> str:
    match = server.match
    joined = "".join(" " + p for p in params)
    return f"{match.group('lead')}{server.address}{joined};{match.group('rest')}"


def mark(text: str, address: str, drained: bool) -> Marked:
    """The text with ``address`` drained or active in every upstream that names it."""
    lines = text.split("\n")
    result = Marked(text=text)
    for name, servers in _blocks(lines):
        mine = [s for s in servers if s.address == address]
        if not mine:
            continue
        result.found.append(name)
        if drained:
            others = [s for s in _serving(servers) if s.address != address]
            todo = [s for s in mine if "down" not in s.params]
            if todo and not others:
                result.kept.append(name)
                continue
            for server in todo:
                lines[server.index] = _render(server, [*server.params, "down"])
        else:
            todo = [s for s in mine if "down" in s.params]
            for server in todo:
                lines[server.index] = _render(server, [p for p in server.params if p != "down"])
        if todo:
            result.changed.append(name)
    result.text = "\n".join(lines)
    return result


# Apache: <Proxy "balancer://NAME"> ... BalancerMember "URL" key=value ... </Proxy>, or a
# BalancerMember outside such a block that names its balancer first. Directive names and
# the status flags are case-insensitive, as Apache reads them.
PROXY_START = re.compile(
    r"""^\s*<Proxy\s+(["']?)balancer://(?P<name>[^\s"'/>]+)/?\1\s*>\s*$""", re.IGNORECASE
)
PROXY_END = re.compile(r"^\s*</Proxy\s*>\s*$", re.IGNORECASE)
# A word as Apache splits a directive's arguments: quoted parts (with backslash escapes)
# stay together.
WORD = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"'])+""")
# Apache applies the flags of a status value in order: +X sets X, -X clears it, a bare X
# follows the last sign (set at first). D: disabled, no new requests.
FLAG = re.compile(r"([+-]?)([A-Za-z])")
DRAINED = "D"
# Flags of a member that takes no regular requests: disabled, stopped, hot standby (+H, the
# site model's backup server), hot spare, drain mode (sticky sessions only), in error,
# failed health check.
NOT_SERVING = frozenset("DSHRNEC")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "h2c": 80, "h2": 443, "ajp": 8009}


@dataclass
class _Word:
    line: int  # line index
    start: int
    end: int
    text: str


@dataclass
class _Member:
    url: str
    params: list[_Word]
    last: _Word  # the line's last word: a new parameter goes after it

    def param(self, key: str) -> _Word | None:
        """The word of a key=value parameter; the last one counts, as in Apache."""
        found = None
        for word in self.params:
            if word.text.split("=", 1)[0].lower() == key:
                found = word
        return found

    def flags(self) -> set[str]:
        status = self.param("status")
        return _effective(_unquote(status.text.split("=", 1)[1])[1]) if status else set()

    def lbset(self) -> int:
        word = self.param("lbset")
        try:
            return int(_unquote(word.text.split("=", 1)[1])[1]) if word else 0
        except ValueError:
            return 0


def _unquote(value: str) -> tuple[str, str]:
    """(quote, inner) of a word that may be quoted as a whole."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0], value[1:-1]
    return "", value


def _effective(value: str) -> set[str]:
    flags, setting = set(), True
    for sign, flag in FLAG.findall(value):
        setting = {"+": True, "-": False}.get(sign, setting)
        if setting:
            flags.add(flag.upper())
        else:
            flags.discard(flag.upper())
    return flags


def _without(value: str, flag: str) -> str:
    """The status value without any mention of the flag; a sign it carried passes on to a
    bare flag after it, so the others keep their meaning."""
    items = FLAG.findall(value)
    result, carried = [], ""
    for sign, name in items:
        if name.upper() == flag:
            carried = sign or carried
            continue
        result.append((sign or carried, name))
        carried = ""
    return "".join(sign + name for sign, name in result)


def _logical_lines(lines: list[str]):
    """Yield the words of each directive with their line and position; a line ending in a
    backslash continues on the next one."""
    words: list[_Word] = []
    for index, line in enumerate(lines):
        body = line.rstrip()
        continued = body.endswith("\\")
        if continued:
            body = body[:-1]
        words += [_Word(index, m.start(), m.end(), m.group()) for m in WORD.finditer(body)]
        if not continued:
            if words:
                yield words
            words = []
    if words:
        yield words


def _balancer_name(word: str) -> str | None:
    value = _unquote(word)[1]
    if not value.lower().startswith("balancer://"):
        return None
    return value[len("balancer://") :].rstrip("/") or None


def _balancers(lines: list[str]) -> dict[str, tuple[str, list[_Member]]]:
    """Balancer (lower-case name) -> (name as written first, members), in file order."""
    found: dict[str, tuple[str, list[_Member]]] = {}
    current = None
    for words in _logical_lines(lines):
        line = lines[words[0].line]
        start = PROXY_START.match(line) if words[0].line == words[-1].line else None
        if current is None and start:
            current = start.group("name")
            continue
        if current is not None and PROXY_END.match(line):
            current = None
            continue
        if words[0].text.lower() != "balancermember":
            continue
        positional = [w for w in words[1:] if "=" not in w.text]
        params = [w for w in words[1:] if "=" in w.text]
        name = current
        if name is None:
            # Outside a block: BalancerMember balancer://NAME URL key=value ...
            if len(positional) < 2:
                continue
            name = _balancer_name(positional[0].text)
            positional = positional[1:]
        if name is None or not positional:
            continue
        entry = found.setdefault(name.lower(), (name, []))
        entry[1].append(_Member(url=_unquote(positional[0].text)[1], params=params, last=words[-1]))
    return found


def _host_port(url: str) -> tuple[str, int | None, str] | None:
    """(host, port, scheme) of a URL or of a bare host:port (scheme empty)."""
    if "|" in url:  # unix:/path|http://host/: a socket, not a host and port
        return None
    try:
        parts = urlsplit(url if "://" in url else "//" + url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, port, parts.scheme.lower()


def _names(url: str, server: tuple[str, int | None, str]) -> bool:
    member = _host_port(url)
    if member is None:
        return False
    host, port, scheme = member
    port = port or DEFAULT_PORTS.get(scheme)
    return host == server[0] and port == (server[1] or DEFAULT_PORTS.get(scheme))


def _edit(lines: list[str], edits: list[tuple[_Word, str]]) -> None:
    """Replace words (an empty text removes the word and the blanks before it); right to
    left within a line, so that earlier positions stay valid."""
    for word, text in sorted(edits, key=lambda edit: (edit[0].line, edit[0].start), reverse=True):
        line = lines[word.line]
        start = word.start
        if not text:
            start = len(line[:start].rstrip(" \t"))
        lines[word.line] = line[:start] + text + line[word.end :]


def _drain(member: _Member) -> tuple[_Word, str]:
    status = member.param("status")
    if status is None:
        last = member.last
        return _Word(last.line, last.end, last.end, ""), " status=+D"
    key, value = status.text.split("=", 1)
    quote, inner = _unquote(value)
    return status, f"{key}={quote}{inner}+D{quote}" if inner else f"{key}={quote}+D{quote}"


def _restore(member: _Member) -> tuple[_Word, str]:
    status = member.param("status")
    key, value = status.text.split("=", 1)
    quote, inner = _unquote(value)
    rest = _without(inner, DRAINED)
    return status, f"{key}={quote}{rest}{quote}" if rest else ""


def mark_apache(text: str, address: str, drained: bool) -> Marked:
    """The text with the balancer members at ``address`` (host:port) drained
    (``status=+D``) or active in every balancer that names them."""
    lines = text.split("\n")
    result = Marked(text=text)
    server = _host_port(address)
    if server is None:
        return result
    edits = []
    for name, members in _balancers(lines).values():
        mine = [m for m in members if _names(m.url, server)]
        if not mine:
            continue
        result.found.append(name)
        if drained:
            tier = min(m.lbset() for m in mine)
            # Members of a higher lbset only stand in when the lower ones fail, like backups.
            others = [
                m
                for m in members
                if all(m is not x for x in mine) and not (m.flags() & NOT_SERVING) and m.lbset() <= tier
            ]
            todo = [m for m in mine if DRAINED not in m.flags()]
            if todo and not others:
                result.kept.append(name)
                continue
            changes = [_drain(m) for m in todo]
        else:
            todo = [m for m in mine if DRAINED in m.flags()]
            changes = [_restore(m) for m in todo]
        edits += changes
        if todo:
            result.changed.append(name)
    _edit(lines, edits)
    result.text = "\n".join(lines)
    return result
