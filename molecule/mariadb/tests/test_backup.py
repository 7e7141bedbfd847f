# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backups: the timer, a verified archive only root reads, a dropped table restored with its
checksum, a damaged archive refused loudly, a failed backup failing its unit, and the role
leaving a backed-up server alone."""

from __future__ import annotations

import pytest
from conftest import BACKUP_UNIT, local_sql, run_playbook, scenario_variables, testlib

BACKUP_DIR = "/var/backups/mariadb"
RESTORE = "/usr/local/sbin/groundwork-mariadb-restore"
TABLE = "shop.backup_rows"
CHECKSUM = "CHECKSUM TABLE shop.backup_rows EXTENDED"


def newest_archive(host):
    return host.check_output(f"ls -1 {BACKUP_DIR}/mariadb-*.tar.gz | sort | tail -n 1")


@pytest.fixture(scope="module")
def archive(db):
    """A table with rows, backed up by the backup service: the archive, the table's checksum
    and the service's journal."""
    local_sql(
        db,
        "CREATE OR REPLACE TABLE shop.backup_rows"
        " (id INT PRIMARY KEY, name VARCHAR(64), amount DECIMAL(10, 2));"
        " INSERT INTO shop.backup_rows SELECT seq, CONCAT('row ', seq), seq * 1.5 FROM shop.seq_1_to_1000",
    )
    checksum = local_sql(db, CHECKSUM)
    db.check_output(f"systemctl start {BACKUP_UNIT}.service")
    # the journal of this run of the service
    journal = db.check_output(
        f"journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="
        f"$(systemctl show -p InvocationID --value {BACKUP_UNIT}.service)"
    )
    return {"path": newest_archive(db), "checksum": checksum, "journal": journal}


def test_the_backup_timer_is_enabled(db):
    timer = db.service(f"{BACKUP_UNIT}.timer")
    assert timer.is_enabled
    assert timer.is_running


def test_the_backup_service_writes_a_verified_archive_only_root_reads(db, archive):
    assert f"backup of all databases: {archive['path']}" in archive["journal"]
    assert "verified" in archive["journal"]
    assert db.check_output(f"systemctl show -p Result --value {BACKUP_UNIT}.service") == "success"
    made = db.file(archive["path"])
    assert (made.user, made.group, made.mode) == ("root", "root", 0o600)
    directory = db.file(BACKUP_DIR)
    # root's; mysql may only pass through it (the scratch server that verifies runs as mysql)
    assert (directory.user, directory.group, directory.mode) == ("root", "mysql", 0o710)


def test_a_dropped_table_is_restored_with_its_checksum(db, archive):
    local_sql(db, f"DROP TABLE {TABLE}")
    restored = db.check_output(f"{RESTORE} table shop backup_rows {archive['path']}")
    assert f"restored the table {TABLE} from {archive['path']}" in restored
    assert local_sql(db, CHECKSUM) == archive["checksum"]
    assert local_sql(db, "SELECT COUNT(*) FROM shop.backup_rows") == "1000"


# Two ways an archive goes bad: a copy cut short, and a copy that still unpacks but whose data
# no longer matches its manifest of checksums.
DAMAGE = {
    "cut short": (
        "cp {archive} {copy} && truncate -s $(( $(stat -c %s {copy}) / 2 )) {copy}",
        "{copy} is damaged",
    ),
    # (tar alone stops quietly at a zeroed block it takes for the end of the archive)
    "a zeroed block in the middle": (
        "cp {archive} {copy}"
        " && dd if=/dev/zero of={copy} bs=4096 seek=$(( $(stat -c %s {copy}) / 8192 )) count=1 conv=notrunc",
        "{copy} is damaged",
    ),
    "a checksum that does not match": (
        "work=$(mktemp -d {dir}/.damage-XXXXXX) && tar -x -f {archive} -C $work"
        " && sed -i 's/^shop.backup_rows .*/shop.backup_rows 1/' $work/checksums"
        " && tar --create --gzip --file={copy} -C $work info checksums data && rm -rf $work",
        "verification of {copy} FAILED: 1 difference(s)",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_verify_fails_loudly_on_a_damaged_copy(db, archive, damage):
    command, expected = DAMAGE[damage]
    copy = f"{BACKUP_DIR}/damaged-copy.tar.gz"
    db.check_output(command.format(archive=archive["path"], copy=copy, dir=BACKUP_DIR))
    try:
        result = db.run(f"{RESTORE} verify {copy}")
    finally:
        db.check_output(f"rm -f {copy}")
    assert result.rc == 1, result.stdout
    assert expected.format(copy=copy) in result.stderr
    if damage == "a checksum that does not match":
        assert "shop.backup_rows: checksum 1 in the backup" in result.stderr


def test_the_role_leaves_a_backed_up_server_alone(db, archive, tmp_path):
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    verified = db.run(f"{RESTORE} verify {archive['path']}")
    assert verified.rc == 0, verified.stderr
    assert testlib.recap_changed(output, "md-db") == 0, output


def test_a_failed_backup_fails_the_unit(db):
    result = db.run(
        "systemd-run --wait --quiet --unit gw-mariadb-backup-fail"
        f" /usr/local/sbin/{BACKUP_UNIT} {BACKUP_DIR} 2 nosuchdb"
    )
    try:
        assert result.rc != 0
        journal = db.check_output("journalctl -u gw-mariadb-backup-fail --no-pager -o cat")
        assert "the database nosuchdb does not exist" in journal
    finally:
        db.run("systemctl reset-failed gw-mariadb-backup-fail")
