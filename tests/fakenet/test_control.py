"""The control protocol codec, with no sockets and no world."""

from __future__ import annotations

import json

import pytest

from fakenet import control
from fakenet.journal import JournalEvent


def _event(seq: int = 1) -> JournalEvent:
    return JournalEvent(seq=seq, time=1.5, endpoint="canary", role="canary", proto="tcp",
                        kind="connect", dst=("10.0.0.1", 25), peer=("10.0.0.1", 40000),
                        nbytes=3, sha256="ab", detail={"head": "EHLO"})


@pytest.mark.parametrize("request_", [control.Mark(), control.Events(7), control.Stop()])
def test_requests_round_trip(request_: control.Request) -> None:
    line = control.encode_request(request_)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert control.decode_request(line) == request_


def test_request_wire_format_is_the_documented_one() -> None:
    assert json.loads(control.encode_request(control.Events(3))) == {"op": "events", "since": 3}
    assert json.loads(control.encode_request(control.Mark())) == {"op": "mark"}
    assert json.loads(control.encode_request(control.Stop())) == {"op": "stop"}


@pytest.mark.parametrize("reply", [
    control.Ready(1, "/tmp/ca.pem", 42),
    control.Marked(12),
    control.EventList((_event(1), _event(2))),
    control.EventList(()),
    control.Stopped(),
    control.Failure("boom", "namespace"),
])
def test_replies_round_trip(reply: control.Reply) -> None:
    assert control.decode_reply(control.encode_reply(reply)) == reply


def test_reply_wire_format_is_the_documented_one() -> None:
    ready = json.loads(control.encode_reply(control.Ready(1, "/ca.pem", 5)))
    assert ready["ready"] is True and ready["version"] == 1 and ready["ca"] == "/ca.pem"
    assert json.loads(control.encode_reply(control.Marked(4))) == {"mark": 4}
    assert json.loads(control.encode_reply(control.Stopped())) == {"stopped": True}
    assert json.loads(control.encode_reply(control.Failure("x")))["error"] == "x"


def test_event_details_survive() -> None:
    reply = control.decode_reply(control.encode_reply(control.EventList((_event(),))))
    assert isinstance(reply, control.EventList)
    (event,) = reply.events
    assert event.dst == ("10.0.0.1", 25) and event.detail == {"head": "EHLO"}


@pytest.mark.parametrize("line", [
    b"", b"not json", b"[1, 2]", b'{"op": "dance"}', b'{"op": "events", "since": -1}',
    b'{"op": "events", "since": "3"}', b'{"op": "events", "since": true}', b"\xff\xfe",
])
def test_bad_requests_raise_control_error(line: bytes) -> None:
    with pytest.raises(control.ControlError):
        control.decode_request(line)


@pytest.mark.parametrize("line", [b"{}", b'{"ready": true}', b'{"events": [{"seq": 1}]}',
                                  b"garbage", b'{"mark": "x"}'])
def test_bad_replies_raise_control_error(line: bytes) -> None:
    with pytest.raises(control.ControlError):
        control.decode_reply(line)
