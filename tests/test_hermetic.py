"""The guard itself: it refuses world addresses and names, lets loopback through."""

from __future__ import annotations

import socket

import pytest

from tests.hermetic import HermeticViolation, is_local


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "::1", "localhost", "::ffff:127.0.0.1"])
def test_loopback_is_local(host: str) -> None:
    assert is_local(host)


@pytest.mark.parametrize("host", ["8.8.8.8", "10.0.0.1", "2001:4860:4860::8888", "dns.google",
                                  "0.0.0.0", "::ffff:10.0.0.1"])
def test_world_addresses_are_not_local(host: str) -> None:
    assert not is_local(host)


def test_connect_to_a_world_address_is_refused_before_any_packet() -> None:
    with socket.socket() as s, pytest.raises(HermeticViolation):
        s.connect(("10.0.0.1", 7))


def test_udp_sendto_a_world_address_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(HermeticViolation):
        s.sendto(b"x", ("8.8.8.8", 53))


def test_name_lookup_is_refused() -> None:
    with pytest.raises(HermeticViolation):
        socket.getaddrinfo("dns.google", 53)


@pytest.mark.parametrize("name", ["gethostbyname", "gethostbyname_ex", "gethostbyaddr"])
def test_gethostby_lookups_are_refused(name: str) -> None:
    with pytest.raises(HermeticViolation):
        getattr(socket, name)("dns.google")


def test_loopback_still_works() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname(), timeout=2):
            conn, _ = listener.accept()
            conn.close()


def test_numeric_only_lookup_is_allowed() -> None:
    """AI_NUMERICHOST parses the text and sends nothing, so it passes the guard."""
    infos = socket.getaddrinfo("10.0.0.1", 7, 0, 0, 0, socket.AI_NUMERICHOST)
    assert infos[0][4][0] == "10.0.0.1"
