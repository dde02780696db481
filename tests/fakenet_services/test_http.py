"""HTTP protocol object, no socket."""

from __future__ import annotations

import hashlib

from fakenet.protocols.http import CHUNK, HttpServer
from fakenet.sansio import Send
from fakenet.world import generated_bytes
from tests.fakenet_services.conftest import binding_for, drive, feed


def server(world_data):
    protocol = HttpServer(world_data, binding_for(world_data, "public-echo", "http"))
    return protocol, drive(protocol)


def split(response: bytes) -> tuple[bytes, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return head, body


def test_get_records_headers_and_keeps_alive(world_data) -> None:
    protocol, out = server(world_data)
    reply = feed(protocol, out, b"GET /?q=1 HTTP/1.1\r\nHost: www.example-public.net\r\n"
                                b"User-Agent: probe/1.0 AppEngine-Google\r\nX-A: 1\r\n\r\n")
    head, body = split(reply)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 29" in head
    assert body == b"hello from the fake internet\n"
    note = out.notes[-1]
    assert note.kind == "http-request" and note.data is None
    assert note.detail["method"] == "GET" and note.detail["path"] == "/"
    assert note.detail["target"] == "/?q=1" and note.detail["version"] == "HTTP/1.1"
    assert note.detail["user_agent"] == "probe/1.0 AppEngine-Google"
    assert note.detail["headers"][2] == ["X-A", "1"]
    assert not out.closed
    assert split(feed(protocol, out, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"))[1] == b""
    assert feed(protocol, out, b"GET /none HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404")
    assert feed(protocol, out, b"DELETE / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405")
    assert len(out.notes) == 4


def test_big_body_goes_out_in_chunks(world_data) -> None:
    protocol, out = server(world_data)
    actions = protocol.data_received(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    sends = [a for a in actions if isinstance(a, Send)]
    assert len(sends) == 1 + 4194304 // CHUNK
    out.add(actions)
    body = split(out.sent)[1]
    assert hashlib.sha256(body).digest() == hashlib.sha256(generated_bytes(4194304)).digest()


def test_post_body_in_pieces_and_pipelining(world_data) -> None:
    protocol, out = server(world_data)
    payload = bytes(range(256)) * 40
    request = b"POST /upload HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload
    sent = b""
    for i in range(0, len(request), 333):
        sent += feed(protocol, out, request[i : i + 333])
    expected = f"{len(payload)} {hashlib.sha256(payload).hexdigest()}\n".encode()
    assert split(sent)[1] == expected
    assert out.notes[-1].data == payload
    both = feed(protocol, out, b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n")
    assert both.count(b"HTTP/1.1 200 OK") == 2 and out.closed  # 1.0 without keep-alive


def test_connection_close(world_data) -> None:
    protocol, out = server(world_data)
    reply = feed(protocol, out,
                 b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    assert reply.count(b"HTTP/1.1") == 1 and b"Connection: close" in reply and out.closed


def test_malformed_requests_get_an_error_and_close(world_data) -> None:
    cases = [
        (b"\x16\x03\x01\x02\x00garbage\r\n", b"400"),
        (b"GET /\r\n", b"400"), (b"GET / HTTP/2.0\r\n\r\n", b"505"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", b"413"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"501"),
        (b"GET /" + b"a" * 9000, b"414"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n", b"431"),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101, b"431"),
    ]
    for data, code in cases:
        protocol, out = server(world_data)
        assert feed(protocol, out, data)[9:12] == code, data
        assert out.closed and out.notes[-1].kind == "http-error"
        assert feed(protocol, out, b"GET / HTTP/1.1\r\n\r\n") == b""


def test_eof_mid_request(world_data) -> None:
    protocol, out = server(world_data)
    out.add(protocol.data_received(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"))
    out.add(protocol.eof_received())
    assert out.sent.startswith(b"HTTP/1.1 400") and out.closed
    protocol, out = server(world_data)
    out.add(protocol.eof_received())
    assert out.sent == b"" and out.closed
