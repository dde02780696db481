"""The destination policy on every family and spelling of DST-6, DST-7 and EXC-5."""

from __future__ import annotations

import errno
import ipaddress
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.addresses import (
    Address,
    InvalidHost,
    embedded_ipv4,
    normalise_hostname,
    parse_ipv4_spelling,
    read_host,
)
from sandbox.policy import Policy, is_special
from sandbox.ranges import load_google
from sandbox.service.resolve import Resolver, choose
from sandbox.service.table import ServiceError

POLICY = Policy(load_google().range_set())
A = Address.parse


def decide(host: str, port: int = 7, proto: str = "tcp", name: str | None = None,
           owned: tuple[str, ...] = ()) -> bool:
    spelling = read_host(host)
    assert spelling.address is not None
    return POLICY.decide(spelling.address, port, proto, name,
                         frozenset(A(o) for o in owned)).allowed


# ------------------------------------------------------------------ DST-1..5, 10, GCE, P25, FTP
@pytest.mark.parametrize("host", [
    "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "fd00::1", "fc00::1",
    "127.0.0.1", "127.255.0.1", "::1", "169.254.169.254", "fe80::a9fe:a9fe", "0.0.0.0",
    "0.1.2.3", "::", "100.64.0.1", "240.0.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1",
    "2001:db8::1", "255.255.255.255", "224.0.0.251", "239.255.0.1", "ff0e::1:1", "ff05::2",
    "142.250.102.108", "172.217.16.14", "216.58.200.46", "2a00:1450:4001:82a::200e",
    "2607:f8b0:4004:800::200e", "8.8.8.8", "2001:4860:4860::8888",
])
@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_blocked_destinations(host: str, proto: str) -> None:
    assert not decide(host, 7, proto)


@pytest.mark.parametrize("host", ["93.184.215.14", "1.1.1.1", "151.101.65.69",
                                  "2606:4700:4700::1111", "35.192.0.10", "2600:1900:4000::10",
                                  "34.120.0.1"])
@pytest.mark.parametrize("port", [7, 22, 80, 443, 465, 587, 993, 995, 5000])
def test_public_and_compute_engine_allowed(host: str, port: int) -> None:
    assert decide(host, port, "tcp") and decide(host, port, "udp")


@pytest.mark.parametrize("host", ["93.184.215.14", "35.192.0.10", "2606:4700:4700::1111"])
def test_port_25_blocked_everywhere(host: str) -> None:
    assert not decide(host, 25, "tcp") and not decide(host, 25, "udp")
    assert not decide("142.250.102.108", 25, "tcp", "smtp.gmail.com", ("142.250.102.108",))


def test_ftp_control_port_refused_for_tcp_only() -> None:
    assert not decide("93.184.215.14", 21, "tcp")
    assert decide("93.184.215.14", 21, "udp")


def test_bad_ports_never_allowed() -> None:
    for port in (0, -1, 65536, 1 << 20):
        assert not POLICY.decide(A("93.184.215.14"), port, "tcp").allowed


# ------------------------------------------------------------------ EXC-1..5
@pytest.mark.parametrize("host", ["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888",
                                  "2001:4860:4860::8844"])
def test_public_dns_only_on_53(host: str) -> None:
    assert decide(host, 53, "udp") and decide(host, 53, "tcp")
    for port in (7, 80, 443, 853):
        assert not decide(host, port, "udp") and not decide(host, port, "tcp")


GMAIL = {"smtp.gmail.com": ("142.250.102.108", (465, 587)),
         "pop.gmail.com": ("142.250.102.109", (995,)),
         "imap.gmail.com": ("142.250.102.110", (993,))}


@pytest.mark.parametrize("name", sorted(GMAIL))
def test_gmail_hosts_on_their_own_ports_only(name: str) -> None:
    address, ports = GMAIL[name]
    for port in (25, 80, 465, 587, 993, 995):
        assert decide(address, port, "tcp", name, (address,)) == (port in ports)
        assert not decide(address, port, "tcp")  # the literal alone is Google range


@pytest.mark.parametrize("spelling", ["SMTP.GMAIL.COM.", "smtp.gmail.com.", "Smtp.Gmail.Com"])
def test_exc5_normalised_names_match(spelling: str) -> None:
    name = normalise_hostname(spelling)
    assert decide("142.250.102.108", 465, "tcp", name, ("142.250.102.108",))


@pytest.mark.parametrize("spelling", ["smtp.gmail.com.evil.example", "smtp.gmail.com..",
                                      "xsmtp.gmail.com", "smtp-gmail.com", "smtp.gmail.co"])
def test_exc5_lookalikes_are_not_exceptions(spelling: str) -> None:
    try:
        name = normalise_hostname(spelling)
    except InvalidHost:
        return
    assert not decide("142.250.102.108", 465, "tcp", name, ("142.250.102.108",))


@pytest.mark.parametrize("spelling", ["smtp.gmail.com\x00", "smtp.gmail.com\x00.evil.example",
                                      "smtp.gmail.com ", " smtp.gmail.com", "smtp..gmail.com", ""])
def test_exc5_nul_and_malformed_names_rejected(spelling: str) -> None:
    with pytest.raises(InvalidHost):
        read_host(spelling)


def test_exc5_name_never_opens_an_address_it_does_not_own() -> None:
    # A Google address that smtp.gmail.com did not resolve to stays blocked.
    assert not decide("172.217.16.14", 465, "tcp", "smtp.gmail.com", ("142.250.102.108",))


# ------------------------------------------------------------------ DST-6 embedded IPv4
EMBED_FORMS = {
    "mapped": lambda v4: f"::ffff:{v4}",
    "compatible": lambda v4: f"::{v4}",
    "nat64": lambda v4: f"64:ff9b::{v4}",
    "6to4": lambda v4: str(ipaddress.IPv6Address(
        (0x2002 << 112) | (int(ipaddress.IPv4Address(v4)) << 80) | 1)),
    "teredo": lambda v4: str(ipaddress.IPv6Address(
        (0x20010000 << 96) | (0x4136E378 << 64) | (0x8000 << 48) | (0x63BF << 32)
        | (int(ipaddress.IPv4Address(v4)) ^ 0xFFFFFFFF))),
}


@pytest.mark.parametrize("form", sorted(EMBED_FORMS))
@pytest.mark.parametrize("v4", ["10.0.0.1", "127.0.0.1", "169.254.169.254", "192.168.1.1",
                                "255.255.255.255", "224.0.0.251", "142.250.102.108"])
def test_dst6_embedded_blocked_address_blocked(form: str, v4: str) -> None:
    assert not decide(EMBED_FORMS[form](v4), 7)


def test_dst6_world_spellings() -> None:
    for host in ["::a00:1", "64:ff9b::a00:1", "2002:a00:1::1", "::ffff:10.0.0.1",
                 "2001:0:4136:e378:8000:63bf:f5ff:fffe"]:
        assert not decide(host, 7)
    assert embedded_ipv4(A("2001:0:4136:e378:8000:63bf:f5ff:fffe").value)[0] == 0x0A000001


@pytest.mark.parametrize("form", ["mapped", "nat64", "6to4", "teredo"])
def test_dst6_embedded_public_address_judged_as_public(form: str) -> None:
    assert decide(EMBED_FORMS[form]("93.184.215.14"), 7)


# ------------------------------------------------------------------ DST-7 spellings
@pytest.mark.parametrize("spelling", ["167772161", "0x0a000001", "0xa000001", "012.0.0.1",
                                      "10.1", "10.0.1", "10.0.0.1.", " 10.0.0.1", "10.0.0.1 ",
                                      "0x0a.0.0.01", "012.0.0.01", "10.000.000.001"])
def test_dst7_spellings_of_10_0_0_1(spelling: str) -> None:
    assert parse_ipv4_spelling(spelling) == 0x0A000001
    assert not decide(spelling, 7)


def _spellings(value: int) -> st.SearchStrategy[str]:
    b = value.to_bytes(4, "big")

    def part(n: int, width: int) -> st.SearchStrategy[str]:
        return st.sampled_from([str(n), hex(n), hex(n).upper().replace("X", "x"),
                                "0" + oct(n)[2:] if n else "0", "0x" + format(n, f"0{width}x")])

    four = st.tuples(*(part(x, 2) for x in b)).map(".".join)
    low16 = int.from_bytes(b[2:], "big")
    three = st.tuples(part(b[0], 2), part(b[1], 2), part(low16, 4)).map(".".join)
    two = st.tuples(part(b[0], 2), part(int.from_bytes(b[1:], "big"), 6)).map(".".join)
    one = part(value, 8)
    base = st.one_of(four, three, two, one)
    return st.tuples(base, st.sampled_from(["", "."]), st.sampled_from(["", " ", "\t"]),
                     st.sampled_from(["", " ", "\n"])).map(lambda t: t[2] + t[0] + t[1] + t[3])


BLOCKED_V4 = st.one_of(
    st.integers(0x0A000000, 0x0AFFFFFF), st.integers(0x7F000000, 0x7FFFFFFF),
    st.integers(0xAC100000, 0xAC1FFFFF), st.integers(0xC0A80000, 0xC0A8FFFF),
    st.integers(0xA9FE0000, 0xA9FEFFFF), st.integers(0xE0000000, 0xFFFFFFFF),
    st.integers(0x00000000, 0x00FFFFFF), st.integers(0x8EFA0000, 0x8EFBFFFF))


@settings(max_examples=400, deadline=None)
@given(BLOCKED_V4.flatmap(lambda v: st.tuples(st.just(v), _spellings(v))),
       st.sampled_from([7, 53, 80, 443, 465, 587, 993, 995]), st.sampled_from(["tcp", "udp"]))
def test_no_spelling_of_a_blocked_ipv4_address_is_allowed(pair: tuple[int, str], port: int,
                                                          proto: str) -> None:
    value, spelling = pair
    try:
        spelled = read_host(spelling)
    except InvalidHost:
        return  # rejected as invalid: fine
    assert spelled.address == Address(4, value)  # never read as a host name
    assert not POLICY.decide(spelled.address, port, proto).allowed


@settings(max_examples=300, deadline=None)
@given(BLOCKED_V4, st.sampled_from(sorted(EMBED_FORMS)))
def test_no_ipv6_embedding_of_a_blocked_ipv4_address_is_allowed(value: int, form: str) -> None:
    v6 = EMBED_FORMS[form](str(ipaddress.IPv4Address(value)))
    for text in (v6, v6.upper(), str(ipaddress.IPv6Address(v6).exploded)):
        assert not POLICY.decide(read_host(text).address, 7, "tcp").allowed  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_spelling_parse_agrees_with_inet_aton(value: int) -> None:
    import socket

    text = str(ipaddress.IPv4Address(value))
    assert parse_ipv4_spelling(text) == int.from_bytes(socket.inet_aton(text), "big")
    assert parse_ipv4_spelling(str(value)) == value


def test_special_covers_ipv6_outside_global_unicast() -> None:
    assert is_special(A("4000::1")) and is_special(A("fec0::1")) and not is_special(A("2606::1"))


@pytest.mark.parametrize("bad", ["10.0.0.256", "1.2.3.4.5", "08.0.0.1", "1..2", "a.b.c.d"])
def test_non_addresses_are_not_parsed_as_addresses(bad: str) -> None:
    assert parse_ipv4_spelling(bad) is None


def test_bare_hex_prefix_reads_as_a_blocked_address() -> None:
    # glibc's inet_aton refuses "0x"; reading it as 0.0.0.0 errs on the blocked side.
    assert parse_ipv4_spelling("0x") == 0 and not decide("0x", 7)


# ------------------------------------------------------------------ DST-8/9, EXC-5 where the
# service picks the address it dials: every resolution is judged afresh, answer by answer.
def _resolver(*answers: list[str]) -> Resolver:
    """Answers in turn, the last one for good (a rebinding name)."""
    queue = list(answers)

    def resolve(name: str, family: int) -> list[Address]:
        return [A(a) for a in (queue.pop(0) if len(queue) > 1 else queue[0])]

    return resolve


def test_dst8_a_name_rebound_to_a_blocked_address_is_blocked() -> None:
    resolver = _resolver(["93.184.215.14"], ["10.0.0.1"])
    addr, _ = choose(POLICY, resolver, socket.AF_INET, "rebind.test", 80, "tcp", None)
    assert addr == A("93.184.215.14")
    with pytest.raises(ServiceError) as info:
        choose(POLICY, resolver, socket.AF_INET, "rebind.test", 80, "tcp", None)
    assert info.value.errno == errno.EACCES


@pytest.mark.parametrize(("answers", "allowed"), [
    (["10.0.0.2", "93.184.215.14"], "93.184.215.14"),
    (["93.184.215.14", "10.0.0.2"], "93.184.215.14"),
    (["fd00::2", "2606:4700:4700::1111"], "2606:4700:4700::1111"),
])
def test_dst9_mixed_answers_only_ever_yield_the_allowed_one(answers: list[str],
                                                            allowed: str) -> None:
    family = socket.AF_INET6 if ":" in allowed else socket.AF_INET
    for proto in ("tcp", "udp"):
        addr, _ = choose(POLICY, _resolver(answers), family, "mixed.test", 80, proto, None)
        assert addr == A(allowed)
    with pytest.raises(ServiceError):
        choose(POLICY, _resolver(["10.0.0.2", "fd00::2"]), 0, "mixed.test", 80, "tcp", None)


def test_exc5_a_hint_opens_only_what_the_service_resolves_the_hint_to() -> None:
    owned = _resolver(["142.250.102.108"])
    addr, _ = choose(POLICY, owned, socket.AF_INET, "142.250.102.108", 465, "tcp",
                     "SMTP.GMAIL.COM.")
    assert addr == A("142.250.102.108")
    for hint in ("smtp.gmail.com", "smtp.gmail.com\x00", None):
        with pytest.raises(ServiceError):
            choose(POLICY, owned, socket.AF_INET, "172.217.16.14", 465, "tcp", hint)
