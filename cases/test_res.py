"""RES: resolver limits. gethostbyaddr raises NotImplementedError (MUST), which
is also a socket.error (SHOULD); other lookups are recorded (MAY)."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

ADDRESSES = ["1.1.1.1", "93.184.215.14", "2606:4700:4700::1111"]


@pytest.mark.clause("RES-1", "MUST")
@pytest.mark.parametrize("address", ADDRESSES)
def test_gethostbyaddr_not_implemented(address, instance, verdict):
    tried = attempt(instance.module("socket").call, "gethostbyaddr", address)
    verdict.raised(tried, is_a="NotImplementedError")


@pytest.mark.clause("RES-1", "SHOULD")
def test_gethostbyaddr_error_is_also_socket_error(instance, verdict):
    tried = attempt(instance.module("socket").call, "gethostbyaddr", ADDRESSES[0])
    verdict.raised(tried, is_a="NotImplementedError", socket_error=True)


@pytest.mark.clause("RES-2", "MAY")
@pytest.mark.parametrize(("call", "args"), [
    ("getnameinfo", (("1.1.1.1", 80), 0)),
    ("getservbyport", (80,)),
    ("getprotobyname", ("tcp",)),
], ids=["getnameinfo", "getservbyport", "getprotobyname"])
def test_lookup_recorded(call, args, instance, verdict):
    tried = attempt(instance.module("socket").call, call, *args)
    verdict.check(tried.ok, name="implemented", expected=f"(recorded) whether {call} works",
                  observed=tried.describe())
