"""The crash step of the power-loss simulation (python3 stdlib only).

A process run with tests/faults/power_loss_shim.c preloaded journals what it made durable in
one directory (the format is described at the top of the shim). After the process is SIGKILLed,
`power_cut(state_dir, journal)` rewinds the directory to what a power cut at that moment would
have left, on a filesystem that keeps exactly what was fsync'd and nothing else:

1. names: every creation, rename and unlink that no fsync of its directory followed is undone,
   newest first (a rename is moved back and the file it replaced is linked back from the
   journal's graves; an unlinked file is linked back). Each undo first checks that the name
   still holds the inode the journal says, so a record of a call that failed or never ran
   (the shim journals these before the call) changes nothing;
2. files nobody journalled (created by a call the shim does not see) are removed;
3. data: every file is cut (or zero-extended) to its durable length, the length at its last
   fsync/fdatasync (or at the process start), and the durable bytes that were overwritten
   since are written back from the undo file, newest first.

Optionally (`torn_tails`) a file keeps a random part of its unsynced tail, as after writeback
that got part of the way. Then the journal, undo file and graves are deleted, so the next process starts a fresh
journal on a directory that is entirely durable. `power_cut` returns what it dropped.
"""
from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CutReport:
    """What one simulated power cut changed in the directory."""
    bytes_dropped: int = 0  # unsynced bytes cut from files that stay, and bytes of removed files
    files_cut: int = 0  # files that lost a tail
    files_removed: int = 0  # created and never made durable by a directory fsync
    unknown_removed: list[str] = field(default_factory=list)  # files the journal never saw
    renames_undone: int = 0
    unlinks_undone: int = 0
    bytes_restored: int = 0  # overwritten durable bytes written back
    bytes_kept_unsynced: int = 0  # unsynced bytes kept as a torn tail (torn_tails only)
    records: int = 0  # journal records read
    dropped_by_file: dict[str, int] = field(default_factory=dict)  # file name -> bytes dropped

    def summary(self) -> str:
        return (f"dropped {self.bytes_dropped} B ({self.files_cut} files cut, "
                f"{self.files_removed} removed, {len(self.unknown_removed)} unknown), "
                f"{self.renames_undone} renames and {self.unlinks_undone} unlinks undone, "
                f"{self.bytes_restored} B restored, {self.bytes_kept_unsynced} B of unsynced "
                f"tails kept; {self.records} journal records")


@dataclass
class _Inode:
    durable: int
    # (record index, offset, length, where the old bytes are in the undo file)
    undo: list[tuple[int, int, int, int]] = field(default_factory=list)


def _inode_of(path: Path) -> str | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return f"{st.st_dev}:{st.st_ino}"


def _read_journal(journal: Path) -> list[list[str]]:
    if not journal.exists():
        return []
    text = journal.read_text()
    lines = text.split("\n")
    # One write(2) per record: a record is complete or absent, so only "" follows the last "\n".
    assert lines[-1] == "", f"{journal}: the last record is not terminated: {lines[-1]!r}"
    return [line.split("\t") for line in lines[:-1]]


def power_cut(state_dir: Path, journal: Path, torn_tails: random.Random | None = None
              ) -> CutReport:
    """Rewinds `state_dir` to its durable state (see the module's docstring). With
    `torn_tails`, a file that was only appended to since its last fsync keeps a random prefix
    of its unsynced tail instead of none of it: writeback that got part of the way, cutting a
    record anywhere (even inside one), as a power cut during writeback can."""
    state_dir = Path(os.path.normpath(os.path.abspath(state_dir)))
    journal = Path(journal)
    undo_path = Path(f"{journal}.undo")
    graves = Path(f"{journal}.graves")
    report = CutReport()
    records = _read_journal(journal)
    report.records = len(records)

    inodes: dict[str, _Inode] = {}
    names: list[tuple[int, list[str]]] = []  # (record index, record) of C, R and X
    dir_synced: dict[str, int] = {}  # directory -> records before this index are durable
    for i, r in enumerate(records):
        kind = r[0]
        if kind == "B":
            inodes.setdefault(r[1], _Inode(int(r[2])))  # an earlier process's state wins
        elif kind == "C":
            inodes[r[1]] = _Inode(0)
            names.append((i, r))
        elif kind == "S":  # void the undo records the sync covered (those before `covers`)
            old = inodes.get(r[1], _Inode(0))
            inodes[r[1]] = _Inode(int(r[2]), [u for u in old.undo if u[0] >= int(r[3])])
        elif kind == "U":
            inodes.setdefault(r[1], _Inode(0)).undo.append(
                (i, int(r[2]), int(r[3]), int(r[4])))
        elif kind == "D":  # the records before `covers` are covered
            dir_synced[r[1]] = max(dir_synced.get(r[1], 0), int(r[2]))
        elif kind in ("R", "X"):
            names.append((i, r))
        else:
            raise ValueError(f"{journal}: unknown record {r!r}")

    def durable(i: int, *paths: str) -> bool:
        return all(dir_synced.get(os.path.dirname(p), -1) > i for p in paths)

    # 1. Names, newest first.
    for i, r in reversed(names):
        if r[0] == "C":
            _, ino, path = r
            if not durable(i, path) and _inode_of(Path(path)) == ino:
                size = os.path.getsize(path)
                report.bytes_dropped += size
                report.dropped_by_file[os.path.basename(path)] = size
                os.unlink(path)
                report.files_removed += 1
        elif r[0] == "R":
            _, src, dst, ino, old_ino, grave = r
            if durable(i, src, dst) or _inode_of(Path(dst)) != ino:
                continue
            os.rename(dst, src)
            if grave != "-":
                os.link(grave, dst)
            report.renames_undone += 1
        else:  # X
            _, path, ino, grave = r
            if not durable(i, path) and grave != "-" and not os.path.exists(path):
                os.link(grave, path)
                report.unlinks_undone += 1

    # 2 and 3. Every file left in the directory (one level, like the shim's baseline).
    undo = open(undo_path, "rb") if undo_path.exists() else None
    try:
        for entry in sorted(os.scandir(state_dir), key=lambda e: e.name):
            if not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
            state = inodes.get(f"{st.st_dev}:{st.st_ino}")
            if state is None:
                report.unknown_removed.append(entry.name)
                report.bytes_dropped += st.st_size
                report.dropped_by_file[entry.name] = st.st_size
                os.unlink(entry.path)
                continue
            keep = state.durable
            if torn_tails is not None and not state.undo and st.st_size > state.durable:
                keep += torn_tails.randrange(st.st_size - state.durable + 1)
                report.bytes_kept_unsynced += keep - state.durable
            if st.st_size > keep:
                report.bytes_dropped += st.st_size - keep
                report.dropped_by_file[entry.name] = st.st_size - keep
                report.files_cut += 1
            if st.st_size != keep or state.undo:
                with open(entry.path, "r+b") as f:
                    f.truncate(keep)
                    for _, offset, length, at in reversed(state.undo):
                        undo.seek(at)
                        old = undo.read(length)
                        assert len(old) == length, f"undo file short at {at}"
                        f.seek(offset)
                        f.write(old)
                        report.bytes_restored += length
                    f.flush()
                    os.fsync(f.fileno())
    finally:
        if undo is not None:
            undo.close()

    journal.unlink(missing_ok=True)
    undo_path.unlink(missing_ok=True)
    shutil.rmtree(graves, ignore_errors=True)
    return report


def shim_environment(shim: Path, state_dir: Path, journal: Path) -> dict[str, str]:
    """The environment variables that run a process under the shim for `state_dir`."""
    preload = os.environ.get("LD_PRELOAD", "")
    return {
        "LD_PRELOAD": f"{os.path.abspath(shim)}" + (f":{preload}" if preload else ""),
        "TEAMHEALTH_POWERLOSS_DIR": os.path.normpath(os.path.abspath(state_dir)),
        "TEAMHEALTH_POWERLOSS_JOURNAL": os.path.abspath(journal),
    }
