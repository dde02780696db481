"""The running world, exercised from inside with standard-library clients (and dnslib packets).

One world per session (tests/fakenet/conftest.py). Each test takes its own
journal mark, so what it asserts is what its own client caused.
"""

from __future__ import annotations

import hashlib

from fakenet import WorldHandle
from fakenet.journal import JournalEvent
from tests.fakenet.conftest import Inside

MIB = 1 << 20


def of(events: list[JournalEvent], **fields: object) -> list[JournalEvent]:
    return [e for e in events if all(getattr(e, k) == v for k, v in fields.items())]


# ---- DNS -----------------------------------------------------------------------------------
def test_dns_over_udp_and_tcp_on_every_google_dns_address(world: WorldHandle,
                                                          inside: Inside) -> None:
    m = world.mark()
    got = inside("""
        import json
        from dnslib import DNSRecord
        out = []
        for server in ("8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"):
            for tcp in (False, True):
                for qtype in ("A", "AAAA"):
                    q = DNSRecord.question("smtp.gmail.com", qtype)
                    r = DNSRecord.parse(q.send(server, 53, tcp=tcp, timeout=3, ipv6=":" in server))
                    out.append([server, tcp, qtype, r.header.id == q.header.id,
                                [str(rr.rdata) for rr in r.rr]])
        print(json.dumps(out))
    """)
    for server, _tcp, qtype, same_id, answers in got:
        assert same_id, server
        assert answers == (["142.250.102.108"] if qtype == "A" else ["2a00:1450:400c:c06::6c"])
    queries = of(world.events(m), kind="dns-query")
    assert len(queries) == 16
    assert {e.dst[0] for e in queries} == {"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888",
                                           "2001:4860:4860::8844"}
    assert {e.proto for e in queries} == {"udp", "tcp"}


def test_getaddrinfo_goes_through_resolv_conf(inside: Inside) -> None:
    got = inside("""
        import json, socket
        def addrs(name):
            try:
                infos = socket.getaddrinfo(name, 443, 0, socket.SOCK_STREAM)
                return sorted({i[4][0] for i in infos})
            except socket.gaierror as exc:
                return ["gaierror", exc.errno == socket.EAI_NONAME]
        print(json.dumps({n: addrs(n) for n in (
            "smtp.gmail.com", "IMAP.GMAIL.COM.", "mail-alias.mailhostingcompany.net",
            "no-such-host.example", "localhost", "intranet.corp.example")}))
    """)
    assert got["smtp.gmail.com"] == ["142.250.102.108", "2a00:1450:400c:c06::6c"]
    assert got["IMAP.GMAIL.COM."] == ["142.250.102.110", "2a00:1450:400c:c06::6e"]
    assert got["mail-alias.mailhostingcompany.net"] == \
        ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"]
    assert got["no-such-host.example"] == ["gaierror", True]
    assert "127.0.0.1" in got["localhost"]
    assert got["intranet.corp.example"] == ["10.0.0.1"]


def test_rebinding_sequence_through_the_stub_resolver_and_mark_resets_it(
        world: WorldHandle, inside: Inside) -> None:
    """glibc's getaddrinfo sees the sequence query by query (TTL 0: nothing cached)."""
    code = """
        import json, socket
        print(json.dumps([socket.getaddrinfo(NAME, 7, FAMILY, socket.SOCK_STREAM)[0][4][0]
                          for _ in range(3)]))
    """
    a2 = code.replace("NAME", "'rebind-a2.attacker.example'").replace("FAMILY", "socket.AF_INET")
    world.mark()
    assert inside(a2) == ["93.184.215.14", "10.0.0.1", "93.184.215.14"]
    world.mark()
    aaaa1 = code.replace("NAME", "'rebind-aaaa1.attacker.example'").replace(
        "FAMILY", "socket.AF_INET6")
    assert inside(aaaa1)[:2] == ["fd00::1", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    world.mark()
    assert inside(a2)[0] == "93.184.215.14"


def test_mixed_name_answers_blocked_and_allowed(inside: Inside) -> None:
    got = inside("""
        import json, socket
        print(json.dumps(sorted({i[4][0] for i in socket.getaddrinfo(
            "mixed.attacker.example", 80, 0, socket.SOCK_STREAM)})))
    """)
    assert got == ["10.0.0.2", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14",
                   "fd00::2"]


# ---- TLS -----------------------------------------------------------------------------------
def test_verified_tls_and_the_wrong_host_failure(world: WorldHandle, inside: Inside) -> None:
    m = world.mark()
    got = inside("""
        import json, os, socket, ssl
        ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
        out = {}
        for label, host, addr in (("v4", "echo.example-public.net", "1.1.1.1"),
                                  ("v6", "www.example-public.net", "2606:4700:4700::1111")):
            with socket.create_connection((addr, 443), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as tls:
                    tls.sendall(b"over tls")
                    out[label] = [tls.recv(100).decode(), tls.version()]
        try:
            with socket.create_connection(("wrong.example-public.net", 443), timeout=5) as raw:
                ctx.wrap_socket(raw, server_hostname="wrong.example-public.net")
            out["wrong"] = "verified!"
        except ssl.SSLCertVerificationError as exc:
            out["wrong"] = exc.verify_message
        print(json.dumps(out))
    """)
    assert got["v4"][0] == "over tls" and got["v6"][0] == "over tls"
    assert "mismatch" in got["wrong"].lower() or "match" in got["wrong"].lower(), got["wrong"]
    handshakes = of(world.events(m), kind="tls-handshake")
    ok = [e for e in handshakes if e.detail.get("ok")]
    assert {e.detail.get("sni") for e in ok} == {"echo.example-public.net",
                                                  "www.example-public.net"}
    assert any(not e.detail.get("ok") and e.dst[0] in ("151.101.65.69", "2a04:4e42:200::323")
               for e in handshakes)


def test_ca_bundle_is_stable_and_a_pem(world: WorldHandle) -> None:
    text = world.ca_bundle.read_text()
    assert text.startswith("-----BEGIN CERTIFICATE-----")
    assert world.env()["SSL_CERT_FILE"] == str(world.ca_bundle)


# ---- endpoints -----------------------------------------------------------------------------
def test_one_mib_echoed_byte_exact(world: WorldHandle, inside: Inside) -> None:
    m = world.mark()
    got = inside("""
        import hashlib, json, socket, threading
        data = bytes((i * 31 + 7) % 251 for i in range(1 << 20))
        out = {}
        for addr in ("93.184.215.14", "2606:4700:4700::1111"):
            s = socket.create_connection((addr, 7), timeout=10)
            t = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
            t.start()
            got = bytearray()
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            t.join()
            s.close()
            out[addr] = [len(got), hashlib.sha256(got).hexdigest()]
        print(json.dumps(out))
    """)
    want = hashlib.sha256(bytes((i * 31 + 7) % 251 for i in range(MIB))).hexdigest()
    assert got == {"93.184.215.14": [MIB, want], "2606:4700:4700::1111": [MIB, want]}
    closes = of(world.events(m), kind="close", endpoint="echo")
    assert sorted((e.dst[0], e.nbytes, e.sha256) for e in closes) == sorted(
        [("93.184.215.14", MIB, want), ("2606:4700:4700::1111", MIB, want)])


def test_sink_reports_length_and_digest(world: WorldHandle, inside: Inside) -> None:
    m = world.mark()
    got = inside("""
        import json, socket
        s = socket.create_connection(("vm.gce-customer.example", 9), timeout=10)
        s.sendall(b"z" * (3 << 20))
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while not reply.endswith(b"\\n"):
            chunk = s.recv(200)
            if not chunk:
                break
            reply += chunk
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(3)
        u.sendto(b"datagram", ("35.192.0.10", 9))
        print(json.dumps([reply.decode(), u.recv(200).decode()]))
    """)
    digest = hashlib.sha256(b"z" * (3 << 20)).hexdigest()
    assert got[0] == f"{3 << 20} {digest}\n"
    assert got[1] == f"8 {hashlib.sha256(b'datagram').hexdigest()}\n"
    events = world.events(m)
    assert of(events, kind="sink-digest")[0].detail == {"nbytes": 3 << 20, "sha256": digest}
    (datagram,) = of(events, kind="datagram", endpoint="sink")
    assert datagram.dst == ("35.192.0.10", 9) and datagram.nbytes == 8


def test_udp_echo(inside: Inside) -> None:
    got = inside("""
        import json, socket
        out = []
        for fam, addr in ((socket.AF_INET, "1.1.1.1"), (socket.AF_INET6, "2606:4700:4700::1111")):
            u = socket.socket(fam, socket.SOCK_DGRAM)
            u.settimeout(3)
            u.sendto(b"x" * 1200, (addr, 7))
            out.append(len(u.recv(4096)))
        print(json.dumps(out))
    """)
    assert got == [1200, 1200]


def test_blackhole_times_out(world: WorldHandle, inside: Inside) -> None:
    m = world.mark()
    got = inside("""
        import json, socket, time
        s = socket.create_connection(("1.1.1.1", 2000), timeout=3)
        s.sendall(b"anyone?")
        s.settimeout(0.5)
        start = time.monotonic()
        try:
            s.recv(1)
            tcp = "answered"
        except socket.timeout:
            tcp = "timeout %.1f" % (time.monotonic() - start)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(0.5)
        u.sendto(b"hello", ("1.1.1.1", 2000))
        try:
            u.recv(10)
            udp = "answered"
        except socket.timeout:
            udp = "timeout"
        s.close()
        print(json.dumps([tcp, udp]))
    """)
    assert got == ["timeout 0.5", "timeout"]
    events = world.events(m)
    assert of(events, endpoint="blackhole", kind="connect")
    assert of(events, endpoint="blackhole", kind="close")[0].nbytes == 7
    assert of(events, endpoint="blackhole", kind="datagram")[0].nbytes == 5


def test_reset_endpoint_resets(world: WorldHandle, inside: Inside) -> None:
    m = world.mark()
    got = inside("""
        import json, socket, time
        out = []
        for addr in ("1.1.1.1", "2606:4700:4700::1111"):
            try:
                s = socket.create_connection((addr, 2001), timeout=3)
                time.sleep(0.1)
                s.recv(1)
                out.append("no reset")
            except ConnectionResetError:
                out.append("reset")
        print(json.dumps(out))
    """)
    assert got == ["reset", "reset"]
    assert len(of(world.events(m), endpoint="reset", kind="connect")) == 2


# ---- canaries ------------------------------------------------------------------------------
def test_canary_records_tcp_connect_and_first_bytes(world: WorldHandle, inside: Inside) -> None:
    m = world.mark()
    got = inside("""
        import json, socket
        s = socket.create_connection(("10.20.30.40", 22), timeout=3)
        s.sendall(b"SSH-2.0-probe\\r\\n")
        s.close()
        m = socket.create_connection(("142.250.102.108", 25), timeout=3)
        greeting = m.recv(100).decode()
        m.sendall(b"EHLO sandbox\\r\\n")
        m.close()
        six = socket.create_connection(("2001:db8::77", 80), timeout=3)
        six.close()
        print(json.dumps(greeting))
    """)
    assert got.startswith("220 ")
    events = of(world.events(m), role="canary")
    ssh = of(events, dst=("10.20.30.40", 22))
    assert [e.kind for e in ssh] == ["connect", "first-bytes", "close"]
    assert ssh[1].detail["head"] == "SSH-2.0-probe\\r\\n"
    assert ssh[2].nbytes == 15 and ssh[2].detail["head"] == "SSH-2.0-probe\\r\\n"
    smtp = of(events, dst=("142.250.102.108", 25), kind="first-bytes")
    assert smtp[0].detail["head"] == "EHLO sandbox\\r\\n"
    assert of(events, dst=("2001:db8::77", 80), kind="connect")


def test_canary_records_udp_unicast_broadcast_multicast(world: WorldHandle,
                                                        inside: Inside) -> None:
    m = world.mark()
    inside("""
        import json, socket
        v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        v4.sendto(b"unicast", ("10.0.0.1", 123))
        v4.sendto(b"google", ("172.217.16.14", 443))
        v4.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        v4.sendto(b"broadcast", ("255.255.255.255", 5000))
        v4.sendto(b"mc4", ("239.255.0.1", 5000))
        v4.sendto(b"mdns", ("224.0.0.251", 5000))
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        v6.sendto(b"ula", ("fd00::1", 53))
        v6.sendto(b"mc6", ("ff0e::1:1", 5000))
        v6.sendto(b"mc6site", ("ff05::2", 5000))
        print(json.dumps("sent"))
    """)
    seen = {(e.dst, e.detail.get("head")) for e in of(world.events(m), role="canary",
                                                       kind="datagram")}
    assert seen == {
        (("10.0.0.1", 123), "unicast"), (("172.217.16.14", 443), "google"),
        (("255.255.255.255", 5000), "broadcast"), (("239.255.0.1", 5000), "mc4"),
        (("224.0.0.251", 5000), "mdns"), (("fd00::1", 53), "ula"),
        (("ff0e::1:1", 5000), "mc6"), (("ff05::2", 5000), "mc6site"),
    }


def test_broadcast_needs_so_broadcast(inside: Inside) -> None:
    got = inside("""
        import errno, json, socket
        try:
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("255.255.255.255", 5000))
            print(json.dumps("sent"))
        except OSError as exc:
            print(json.dumps(errno.errorcode[exc.errno]))
    """)
    assert got == "EACCES"


# ---- hermeticity ---------------------------------------------------------------------------
def test_outside_addresses_fail_at_once_and_only_lo_exists(inside: Inside) -> None:
    got = inside("""
        import errno, json, socket, time
        out = {}
        for fam, addr in ((socket.AF_INET, "11.1.1.1"), (socket.AF_INET6, "2001:67c::1")):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(fam, kind)
                s.settimeout(5)
                start = time.monotonic()
                try:
                    if kind == socket.SOCK_STREAM:
                        s.connect((addr, 80))
                    else:
                        s.sendto(b"x", (addr, 53))
                    out[addr + str(kind)] = ["sent", 0]
                except OSError as exc:
                    out[addr + str(int(kind))] = [errno.errorcode.get(exc.errno, str(exc)),
                                                 time.monotonic() - start]
        out["interfaces"] = [name for _, name in socket.if_nameindex()]
        print(json.dumps(out))
    """)
    interfaces = got.pop("interfaces")
    assert interfaces == ["lo"]
    assert len(got) == 4
    for key, (error, took) in got.items():
        assert error == "ENETUNREACH", key
        assert took < 0.5, key


def test_world_process_is_in_its_own_namespaces(world: WorldHandle) -> None:
    import os

    for ns in ("net", "mnt", "user"):
        assert os.stat(f"/proc/{world.pid}/ns/{ns}").st_ino != os.stat(f"/proc/self/ns/{ns}").st_ino
    with open("/etc/resolv.conf") as host_resolv:  # the world only bind-mounts its own copy
        assert host_resolv.read() != (world.workdir / "etc" / "resolv.conf").read_text()
    with open("/proc/self/mountinfo") as mounts:
        assert str(world.workdir) not in mounts.read()


# ---- robustness ----------------------------------------------------------------------------
def test_garbage_to_every_endpoint_never_crashes_the_world(world: WorldHandle,
                                                           inside: Inside) -> None:
    targets = sorted({(b.address, b.listen.proto, b.listen.port) for b in world.data.bindings()})
    targets += [("10.0.0.1", "tcp", 25), ("10.0.0.1", "udp", 53), ("fd00::1", "tcp", 443)]
    m = world.mark()
    got = inside(f"""
        import json, os, socket, struct
        garbage = [os.urandom(n) for n in (1, 2, 11, 12, 13, 100, 512, 4000)]
        garbage += [b"\\x00" * 12, b"\\xff" * 40, b"\\x12\\x34\\x01\\x00\\x00\\x01" + b"\\xff" * 30,
                    b"\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x3f" + b"a" * 70]
        sent = 0
        for addr, proto, port in {targets!r}:
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            for blob in garbage:
                try:
                    if proto == "udp":
                        s = socket.socket(fam, socket.SOCK_DGRAM)
                        s.sendto(blob, (addr, port))
                    else:
                        s = socket.create_connection((addr, port), timeout=2)
                        s.sendall(struct.pack("!H", len(blob)) + blob if port == 53 else blob)
                    sent += 1
                except OSError:
                    pass
                finally:
                    s.close()
        print(json.dumps(sent))
    """, timeout=120)
    assert got > len(targets) * 8
    assert world.running
    events = world.events(m)
    assert of(events, kind="dns-query")
    assert not of(events, kind="protocol-error")
    after = inside("""
        import json, socket
        s = socket.create_connection(("1.1.1.1", 7), timeout=3)
        s.sendall(b"still here")
        print(json.dumps([s.recv(100).decode(), socket.gethostbyname("dns.google")]))
    """)
    assert after == ["still here", "8.8.8.8"]


def test_marks_give_no_cross_talk(world: WorldHandle, inside: Inside) -> None:
    connect = """
        import json, socket
        socket.create_connection(("{addr}", 80), timeout=3).close()
        print(json.dumps(1))
    """
    first = world.mark()
    inside(connect.format(addr="10.1.1.1"))
    second = world.mark()
    inside(connect.format(addr="10.2.2.2"))
    case_one = {e.dst[0] for e in world.events(first)}
    case_two = {e.dst[0] for e in world.events(second)}
    assert case_one == {"10.1.1.1", "10.2.2.2"}
    assert case_two == {"10.2.2.2"}
    assert world.events(world.mark()) == []


def test_events_are_settled_when_asked(world: WorldHandle, inside: Inside) -> None:
    for round_ in range(5):
        m = world.mark()
        inside(f"""
            import json, socket
            s = socket.create_connection(("192.168.{round_}.9", 443), timeout=3)
            s.sendall(b"x" * 5000)
            s.close()
            print(json.dumps(1))
        """)
        kinds = [e.kind for e in world.events(m)]
        assert kinds == ["connect", "first-bytes", "close"], round_
