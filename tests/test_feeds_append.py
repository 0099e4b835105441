"""The append-only source (a log that grows, e.g. a phone system's queue_log): each poll
reads the whole lines added since the last one, a rotated file is read from the top."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from workers.feeds.config import FeedConfigError, make_feed, parse_feeds
from workers.feeds.poller import FetchError, Validators, fetch


def tail_feed(path: Path, **options: object):
    return make_feed(name="log", url=path.as_uri(), format="generic-csv", read="append",
                     mapping={"service_request_id": "id"}, **options)


def test_append_only_file_is_read_incrementally(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"1|a\n2|b\n3|")  # the last line is still being written
    feed, client = tail_feed(log), httpx.Client()
    first = fetch(client, feed)
    assert first.body == b"1|a\n2|b\n" and first.validators.offset == 8
    assert fetch(client, feed, first.validators).status == 304  # nothing whole added yet
    with log.open("ab") as fh:
        fh.write(b"c\n4|d\n")
    second = fetch(client, feed, first.validators)
    assert second.body == b"3|c\n4|d\n" and second.validators.offset == len(log.read_bytes())
    assert fetch(client, feed, second.validators).status == 304


def test_rotated_or_truncated_log_is_read_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"1|a\n2|b\n")
    feed, client = tail_feed(log), httpx.Client()
    seen = fetch(client, feed)
    log.write_bytes(b"9|z\n")  # logrotate: a new, shorter file
    assert fetch(client, feed, seen.validators).body == b"9|z\n"
    rotated = tmp_path / "queue_log.new"
    rotated.write_bytes(b"1|a\n2|b\n3|c\n")
    rotated.replace(log)  # same size or larger, but another inode
    assert fetch(client, feed, Validators(offset=8, inode=seen.validators.inode)).body.startswith(b"1|a")


def test_backlog_is_read_in_max_bytes_steps_and_a_giant_line_is_named(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"".join(b"%03d|x\n" % i for i in range(10)))  # 10 lines of 6 bytes
    feed, client = tail_feed(log, max_bytes=20), httpx.Client()
    step = fetch(client, feed)
    assert step.body == b"000|x\n001|x\n002|x\n" and step.validators.offset == 18
    log.write_bytes(b"x" * 50 + b"\n")
    with pytest.raises(FetchError, match=r"queue_log: a line at byte 0 is over max_bytes=20"):
        fetch(client, feed)


def test_append_reading_is_only_for_files() -> None:
    text = """feeds:
- {name: log, url: "http://127.0.0.1:1/log", format: generic-csv, read: append,
   mapping: {service_request_id: id}}
"""
    with pytest.raises(FeedConfigError, match=r"feeds.yaml:2: feeds\[0\].*file://"):
        parse_feeds(text)


@pytest.mark.parametrize("entry,expected", [
    ('{name: b, url: "file:///x", format: rss}',
     r"feeds.yaml:2: feeds\[0\]: unknown format 'rss'; one of: open311-json"),
    ('{name: b, url: "file:///x"}', r"feeds.yaml:2: feeds\[0\]: format is missing"),
    ('{name: b, url: "file:///x", format: cap, categories: {TREE: pohon_tumbang}}',
     r"feeds.yaml:2: feeds\[0\].categories: not an option of format cap"),
    ('{name: b, url: "file:///x", format: fhir-location, max_bytes: 0}',
     r"feeds.yaml:2: feeds\[0\].max_bytes: Input should be greater than 0"),
])
def test_feed_list_errors_name_line_field_and_format(entry: str, expected: str) -> None:
    """Each format validates its own options (FeedConfig is a union on ``format``)."""
    with pytest.raises(FeedConfigError, match=expected):
        parse_feeds(f"feeds:\n- {entry}\n")


def test_each_format_has_its_own_options_model() -> None:
    from workers.feeds.cap import CapFeed
    from workers.feeds.open311 import Open311Feed

    assert isinstance(make_feed(name="c", url="file:///x", format="cap"), CapFeed)
    feed = make_feed(name="o", url="file:///x", format="open311-xml",
                     agencies={"Damkar Kota Ambon": "damkar"})
    assert isinstance(feed, Open311Feed) and feed.agencies == {"Damkar Kota Ambon": "damkar"}


def test_category_mapping_names_only_known_categories() -> None:
    with pytest.raises(FeedConfigError, match=r"feeds\[0\].categories: Value error, unknown category pohon"):
        parse_feeds('feeds:\n- {name: o, url: "file:///x", format: open311-json,'
                    ' categories: {TREE: pohon}}\n')
