"""LineBuffer: framing that never buffers an unterminated line without bound."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fakenet.protocols.lines import TOO_LONG, LineBuffer, dot_stuff


def drain(buffer: LineBuffer) -> list[object]:
    out = []
    while (line := buffer.next_line()) is not None:
        out.append(line)
    return out


def test_lines_split_on_crlf_and_lf_across_chunks() -> None:
    buffer = LineBuffer(100)
    buffer.feed(b"ONE\r\nTW")
    assert drain(buffer) == [b"ONE"]
    buffer.feed(b"O\nthree\r")
    assert drain(buffer) == [b"TWO"]
    assert buffer.pending == 6
    buffer.feed(b"\n")
    assert drain(buffer) == [b"three"]


def test_over_long_line_reported_once_and_discarded_to_its_end() -> None:
    buffer = LineBuffer(10)
    reports = []
    for _ in range(100):
        buffer.feed(b"x" * 1000)
        reports += drain(buffer)
        assert buffer.pending <= 10
    assert reports == [TOO_LONG]
    buffer.feed(b"tail\r\nnext\r\n")
    assert drain(buffer) == [b"next"]

    buffer = LineBuffer(10)
    buffer.feed(b"x" * 11)
    assert drain(buffer) == [TOO_LONG]
    buffer.feed(b"yyy\r\nok\r\n")
    assert drain(buffer) == [b"ok"]


def test_over_long_line_inside_one_chunk() -> None:
    buffer = LineBuffer(10)
    buffer.feed(b"y" * 50 + b"\r\nfine\r\n")
    assert drain(buffer) == [TOO_LONG, b"fine"]


def test_take_counts_bytes_and_leaves_the_rest() -> None:
    buffer = LineBuffer(10)
    buffer.feed(b"abc")
    assert buffer.take(5) is None
    buffer.feed(b"de\r\nrest\r\n")
    assert buffer.take(5) == b"abcde"
    assert drain(buffer) == [b"", b"rest"]


@given(st.lists(st.binary(max_size=64), max_size=30))
def test_memory_stays_bounded_for_any_input(chunks: list[bytes]) -> None:
    buffer = LineBuffer(16)
    for chunk in chunks:
        buffer.feed(chunk)
        for line in drain(buffer):
            assert line is TOO_LONG or len(line) <= 16
        assert buffer.pending <= 16 + 64


def test_dot_stuffing() -> None:
    assert dot_stuff(b"a\r\n.b\r\n..c\r\n") == b"a\r\n..b\r\n...c\r\n.\r\n"
    assert dot_stuff(b"") == b".\r\n"
    assert dot_stuff(b"no final newline") == b"no final newline\r\n.\r\n"
