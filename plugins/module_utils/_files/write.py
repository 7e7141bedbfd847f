# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way the collection's modules put a file in place on the host, and read the owner
and group they are given: used by service_config (module_utils/_service_config/host.py),
release_files and nftables_table (module_utils/_nftables/host.py). Modes are read by
module_utils/_files/compare.py ``octal_mode``, which the plans use too.

``replace_file`` writes the content into a temporary file in the same directory, gives it its
final owner and mode *before* it takes the path's name, and renames it over the path:
a reader sees the old file or the new one, never a part, and a secret is never readable by
anyone else, not even for a moment. A failure leaves the old file and no temporary one.

The lookups return None for what the host does not know; the caller names its option in the
error it raises.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.module_utils._files.write import (
        replace_file, user_id, group_id)
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import tempfile

COPY_BLOCK = 1 << 20


def user_id(name):
    """The uid of the user ``name`` on this host; a number that names no user is taken as the
    uid. None when it is neither."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return int(name) if name.isdigit() else None


def group_id(name):
    """The gid of the group ``name`` on this host, as user_id() does for users."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return int(name) if name.isdigit() else None


def replace_file(path, uid, gid, mode, data=None, source=None, prefix=".gw-", durable=True):
    """Put ``data`` (bytes), or the content of the file at ``source``, at ``path`` with owner
    ``uid``:``gid`` and ``mode`` (permission bits), renamed over what is there. ``durable``:
    the content reaches the disk before the rename (fsync), as a configuration file's should;
    a tree of many files may leave that to the file system."""
    handle, temporary = tempfile.mkstemp(prefix=prefix, dir=os.path.dirname(path))
    try:
        # mkstemp made the file readable by its creator only. The mode comes after the owner
        # and the content: a change of owner (and a write by a user without CAP_FSETID) clears
        # setuid and setgid bits.
        with os.fdopen(handle, "wb") as out:
            os.fchown(out.fileno(), uid, gid)
            if source is None:
                out.write(data)
            else:
                with open(source, "rb") as staged:
                    shutil.copyfileobj(staged, out, COPY_BLOCK)
            out.flush()
            os.fchmod(out.fileno(), mode)
            if durable:
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
