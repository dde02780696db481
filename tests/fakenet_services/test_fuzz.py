"""Every protocol object survives any input: no exception, no action after Close.

Inputs mix raw bytes with plausible commands of each protocol (so that the
logged-in and selected states are reached too), cut at arbitrary points.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakenet.protocols.ftp import FtpControl, OpenPassive, Transfer
from fakenet.protocols.http import HttpServer
from fakenet.protocols.imap import LITERAL_LIMIT, ImapServer
from fakenet.protocols.nntp import NntpServer
from fakenet.protocols.pop3 import Pop3Server
from fakenet.sansio import Close, Note, Send
from fakenet.world import load_world
from tests.fakenet_services.conftest import binding_for

WORLD = load_world()

VOCABULARY = {
    Pop3Server: (("gmail-pop", "pop3s"), [
        b"USER app@gmail.com", b"PASS gmail-app-password", b"STAT", b"LIST", b"LIST 1",
        b"UIDL", b"RETR 1", b"RETR 2", b"TOP 2 1", b"DELE 1", b"RSET", b"NOOP", b"CAPA",
        b"QUIT", b"RETR -1", b"LIST 99999999999999999999"]),
    ImapServer: (("gmail-imap", "imaps"), [
        b'a LOGIN app@gmail.com "gmail-app-password"', b"b SELECT INBOX", b"c SEARCH ALL",
        b"d FETCH 1:* (RFC822 FLAGS)", b"e UID FETCH * BODY.PEEK[]<2.5>", b"f LOGOUT",
        b"g CAPABILITY", b"h LOGIN {5}", b"hello", b"i FETCH 1 (BODY[TEXT])",
        b"j SEARCH 1:2 UID 2", b"k AUTHENTICATE PLAIN", b"AGFwcEBnbWFpbC5jb20AeA==",
        b"l EXAMINE inbox", b"m CLOSE", b"n LIST \"\" *", b"o FETCH 0:99 FAST",
        b"p LOGIN {3+}", b"q FETCH 1 BODY[]<99999999999.1>"]),
    NntpServer: (("public-mail", "nntp"), [
        b"CAPABILITIES", b"MODE READER", b"GROUP comp.lang.python", b"ARTICLE 1",
        b"ARTICLE <conformance-1@news.example-public.net>", b"HEAD", b"BODY 1", b"STAT 1",
        b"NEXT", b"LAST", b"LIST", b"LIST NEWSGROUPS", b"DATE", b"QUIT", b"ARTICLE 0"]),
    FtpControl: (("public-mail", "ftp"), [
        b"USER anonymous", b"PASS x", b"SYST", b"PWD", b"TYPE I", b"PASV", b"EPSV", b"LIST",
        b"NLST", b"RETR README", b"SIZE README", b"PORT 1,2,3,4,5,6", b"EPRT |1|1.2.3.4|5|",
        b"CWD /", b"FEAT", b"QUIT", b"ABOR", b"OPTS UTF8 ON"]),
    HttpServer: (("public-echo", "http"), [
        b"GET / HTTP/1.1", b"Host: x", b"", b"POST / HTTP/1.1", b"Content-Length: 3",
        b"abc", b"HEAD /big HTTP/1.0", b"Connection: keep-alive", b"GET /nope HTTP/1.1",
        b"Transfer-Encoding: chunked", b"Content-Length: x", b"PUT /p HTTP/1.1"]),
}


def pieces(vocabulary: list[bytes]) -> st.SearchStrategy[bytes]:
    line = st.one_of(st.sampled_from(vocabulary), st.binary(max_size=40))
    ending = st.sampled_from([b"\r\n", b"\n", b"", b"\r"])
    chunk = st.tuples(line, ending).map(lambda pair: pair[0] + pair[1])
    return st.lists(chunk, max_size=25).map(b"".join)


def check(cls, data: bytes, cuts: list[int], eof: bool) -> None:
    host_kind, _ = VOCABULARY[cls]
    protocol = cls(WORLD, binding_for(WORLD, *host_kind))
    actions = list(protocol.connection_made())
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        for action in protocol.data_received(data[start:end]):
            actions.append(action)
            # play the I/O layer's part for FTP's extra actions
            if isinstance(action, OpenPassive):
                actions += protocol.passive_opened("93.184.215.14", 40000)
            elif isinstance(action, Transfer):
                actions += protocol.transfer_done(True)
        # bounded: a partial line (or an IMAP literal being read), never more
        assert protocol.closed or protocol.lines.pending <= max(protocol.lines.limit,
                                                                LITERAL_LIMIT)
    if eof:
        actions += protocol.eof_received()
    closed = False
    for action in actions:
        assert isinstance(action, Send | Note | Close | OpenPassive | Transfer), action
        if closed:
            assert isinstance(action, Note | Close), f"{action!r} after Close"
        closed = closed or isinstance(action, Close)
    if eof:
        assert closed


def fuzz(cls):
    vocabulary = VOCABULARY[cls][1]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=pieces(vocabulary), cuts=st.lists(st.integers(0, 2000), max_size=6),
           eof=st.booleans())
    def test(data: bytes, cuts: list[int], eof: bool) -> None:
        check(cls, data, cuts, eof)

    test.__name__ = f"test_{cls.__name__}_survives_any_input"
    return test


test_pop3_survives_any_input = fuzz(Pop3Server)
test_imap_survives_any_input = fuzz(ImapServer)
test_nntp_survives_any_input = fuzz(NntpServer)
test_ftp_survives_any_input = fuzz(FtpControl)
test_http_survives_any_input = fuzz(HttpServer)
