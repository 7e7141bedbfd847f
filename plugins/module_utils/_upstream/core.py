# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Take one server out of nginx's load-balanced upstreams, or put it back.

Pure text logic: in every ``upstream NAME { ... }`` block, the ``server ADDRESS ...;``
lines naming the address get nginx's ``down`` parameter (drained) or lose it (active).
A drain never leaves an upstream without a server to send requests to: such an
upstream is left alone and reported, since taking its last server out would turn a
restart into errors for every client instead of a short wait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
