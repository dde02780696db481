"""The harness side of the wire protocol, without processes."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.protocol import (
    LineBuffer,
    NativeStr,
    ProtocolError,
    Ref,
    decode_value,
    encode_request,
    encode_value,
    parse_hello,
    parse_reply,
)


def test_values_round_trip():
    value = {"a": [1, 2.5, None, True, "x", b"\x00\xff", (1, (b"y",))],
             "$odd": 1, 3: "int key"}
    assert decode_value(encode_value(value)) == value


def test_special_floats():
    assert encode_value(float("nan")) == {"$float": "nan"}
    assert math.isinf(decode_value(encode_value(float("-inf"))))


def test_refs_both_ways():
    marker = object()
    wire = encode_value([marker], ref_of=lambda v: Ref("h7") if v is marker else None)
    assert wire == [{"$ref": "h7"}]
    decoded = decode_value({"$ref": "h3", "type": "socket", "module": "socket",
                            "callable": False})
    assert decoded == Ref("h3", "socket", "socket", False)


def test_unencodable_values_are_refused_clearly():
    with pytest.raises(TypeError, match="cannot send a object"):
        encode_value(object())


def test_native_str_equals_bytes_and_text():
    value = decode_value({"$nstr": "MTI3LjAuMC4x"})
    assert isinstance(value, NativeStr) and isinstance(value, bytes)
    assert value == "127.0.0.1" and value == b"127.0.0.1" and value != "127.0.0.2"
    assert value.text == "127.0.0.1"


def test_request_is_one_json_line():
    line = encode_request(4, "call", target="h1", name="recv", args=[5])
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert b'"id":4' in line and b'"op":"call"' in line


def test_hello():
    hello = parse_hello(b'{"agent": 1, "python": "2.7.18", "pid": 9, "app_id": "app-a"}')
    assert (hello.version, hello.python, hello.pid) == (1, "2.7.18", 9)
    assert hello.extra["app_id"] == "app-a"
    with pytest.raises(ProtocolError, match="hello for protocol 1"):
        parse_hello(b'{"agent": 2}')
    with pytest.raises(ProtocolError, match="not a JSON line"):
        parse_hello(b"Welcome!")


def test_replies():
    ok = parse_reply(b'{"id": 1, "ok": true, "value": {"$bytes": "aGk="}}')
    assert ok.ok and decode_value(ok.value) == b"hi"
    err = parse_reply(b'{"id": 2, "ok": false, "error": {"type": "error", "module": "socket",'
                      b' "mro": ["error", "IOError"], "errno": 13, "errno_name": "EACCES",'
                      b' "message": "denied", "is_socket_error": true, "is_timeout": false,'
                      b' "is_gaierror": false}}')
    assert err.error is not None and err.error.errno == 13
    assert err.error.describe() == "socket.error [EACCES]: denied (is socket.error)"


@pytest.mark.parametrize("line", [
    b"not json", b"[1, 2]", b'{"ok": true}', b'{"id": "1", "ok": true}',
    b'{"id": 1, "ok": "yes"}', b'{"id": 1, "ok": false, "error": "boom"}', b"\xff\xfe",
])
def test_malformed_replies(line):
    with pytest.raises(ProtocolError):
        parse_reply(line)


def test_line_buffer():
    buffer = LineBuffer(limit=10)
    assert list(buffer.feed(b"ab\ncd")) == [b"ab"]
    assert list(buffer.feed(b"e\n\n")) == [b"cde", b""]
    with pytest.raises(ProtocolError, match="longer than 10"):
        list(buffer.feed(b"x" * 11))


plain = st.none() | st.booleans() | st.integers() | st.text() | st.binary() | st.floats(
    allow_nan=False)
values = st.recursive(plain, lambda inner: st.lists(inner, max_size=4)
                      | st.tuples(inner, inner)
                      | st.dictionaries(st.text() | st.integers(), inner, max_size=4),
                      max_leaves=20)


@given(values)
def test_any_value_round_trips_through_json(value):
    wire = json.loads(json.dumps(encode_value(value)))
    assert decode_value(wire) == value


def test_a_long_error_message_is_shortened_in_evidence():
    from conformance.protocol import MESSAGE_SHOWN, ErrorInfo
    info = ErrorInfo.from_json({"type": "RuntimeError", "module": "builtins", "mro": [],
                                "message": "allowed: " + "10.0.0.0/8," * 500})
    shown = info.describe()
    assert len(shown) < MESSAGE_SHOWN + 100
    assert shown.endswith("more characters)")
    assert info.message.startswith("allowed: ") and len(info.message) > 5000   # kept whole
