"""The append-only reader: whole lines, resume, rotation, truncation, bounded chunks."""

from __future__ import annotations

from pathlib import Path

from workers.feeds.tail import TailState, follow


def _read(path: Path, state: TailState | None, chunk_bytes: int = 1 << 20):
    chunks = list(follow(path, state, chunk_bytes))
    lines = [raw for c in chunks for _, raw in c.lines]
    notes = [n for c in chunks for n in c.notes]
    return lines, (chunks[-1].state if chunks else state), notes


def test_only_whole_lines_and_a_half_written_line_waits(tmp_path: Path):
    path = tmp_path / "queue_log"
    path.write_bytes(b"a|1\nb|2\nc|3 half")
    lines, state, _ = _read(path, None)
    assert lines == [b"a|1", b"b|2"] and state.offset == 8 and state.line == 2
    with path.open("ab") as fh:
        fh.write(b"-done\nd|4\n")
    lines, state, _ = _read(path, state)
    assert lines == [b"c|3 half-done", b"d|4"] and state.line == 4
    assert _read(path, state)[0] == []  # nothing new: nothing read twice


def test_rotation_finishes_the_old_file_then_reads_the_new_from_zero(tmp_path: Path):
    path = tmp_path / "queue_log"
    path.write_bytes(b"old1\nold2\n")
    _, state, _ = _read(path, None)
    with path.open("ab") as fh:
        fh.write(b"old3 written before the rotation\n")
    path.rename(tmp_path / "queue_log.1")  # logrotate: rename, then Asterisk reopens
    path.write_bytes(b"new1\n")
    lines, state, notes = _read(path, state)
    assert lines == [b"old3 written before the rotation", b"new1"]
    assert notes == ["queue_log rotated: finished the old file (queue_log.1), reading the new one"]
    assert state.offset == 5 and state.line == 1
    assert _read(path, state)[0] == []


def test_rotation_with_the_old_file_gone_says_what_was_lost(tmp_path: Path):
    path = tmp_path / "queue_log"
    path.write_bytes(b"old1\n")
    _, state, _ = _read(path, None)
    path.unlink()
    path.write_bytes(b"fresh1\nfresh2\n")
    lines, _, notes = _read(path, state)
    assert lines == [b"fresh1", b"fresh2"]
    # a new file may even get the old inode back: the first bytes tell them apart
    assert ("gone" in notes[0] or "replaced" in notes[0]) and "byte 5" in notes[0]


def test_truncation_in_place_restarts_at_zero_and_says_so(tmp_path: Path):
    path = tmp_path / "queue_log"
    path.write_bytes(b"line one is long enough\nline two\n")
    _, state, _ = _read(path, None)
    with path.open("r+b") as fh:  # copytruncate, then a new first line
        fh.truncate(0)
    with path.open("ab") as fh:
        fh.write(b"x\n")
    lines, state, notes = _read(path, state)
    assert lines == [b"x"] and state.offset == 2
    assert "truncated" in notes[0]


def test_a_big_file_is_read_in_bounded_chunks(tmp_path: Path):
    path = tmp_path / "queue_log"
    path.write_bytes(b"".join(b"%08d|NONE|q|NONE|QUEUESTART|\n" % i for i in range(5000)))
    chunks = list(follow(path, None, chunk_bytes=4096))
    assert len(chunks) > 30
    assert all(sum(len(raw) + 1 for _, raw in c.lines) <= 4096 + 64 for c in chunks)
    numbers = [n for c in chunks for n, _ in c.lines]
    assert numbers == list(range(1, 5001))  # every line once, in order


def test_a_missing_file_yields_nothing(tmp_path: Path):
    assert list(follow(tmp_path / "none", None)) == []


def test_garbage_without_newlines_is_handed_over_not_waited_for(tmp_path: Path):
    path = tmp_path / "queue_log"
    path.write_bytes(b"\xff" * 200_000)
    lines, state, _ = _read(path, None, chunk_bytes=65536)
    assert len(lines) == 3 and state.offset == 3 * 65536  # the last 3392 bytes may still grow
