"""Own HTTP clients: a guard library's own connection path, driven alone.

Egress-guard libraries ship HTTP clients of their own (advocate.get,
requests-hardened's session) that resolve the URL's host themselves, apart
from any socket module. A candidate with Capability.OWN_HTTP_CLIENT offers
that client in the instance as `own_http_client.fetch(url, timeout) ->
(status, body)`; these cases hold it to the same destination clauses as the
socket module. Candidates without such a client are UNSUPPORTED here, never
passed.

The rebinding case has no warm-up: a client that judges the name's first
answer (public) and then lets the connection resolve it again gets the
second (private) answer, and its bytes land at the private canary.
"""

from __future__ import annotations

import pytest

from conformance.adapter import Capability
from conformance.remote import attempt

PUBLIC_HOST = "www.example-public.net"
REBINDING_NAME = "rebind-a2.attacker.example"   # public first, private second
TIMEOUT = 5.0


@pytest.fixture
def own_client(candidate, instance):
    candidate.require(Capability.OWN_HTTP_CLIENT)
    return instance.module("own_http_client")


@pytest.mark.clause("DST-10", "MUST")
def test_own_client_fetches_a_public_page(own_client, verdict):
    path = "/?case=own-client-public"
    tried = attempt(own_client.call, "fetch", f"http://{PUBLIC_HOST}{path}", TIMEOUT)
    verdict.succeeded(tried)
    status, body = tried.value
    verdict.check(status == 200 and bytes(body).startswith(b"hello"), name="response",
                  expected="200 and the page", observed=f"{status} {bytes(body)[:40]!r}")
    seen = [e for e in verdict.events(kind="http-request") if e.detail.get("target") == path]
    verdict.check(bool(seen), name="request", expected="the web server saw the request",
                  observed=f"{len(seen)} request(s) for {path}")


@pytest.mark.clause("DST-1", "MUST")
def test_own_client_refuses_a_private_address(own_client, verdict, world):
    address = world.data.host("private-10").address("ipv4")
    tried = attempt(own_client.call, "fetch", f"http://{address}/?case=own-private", TIMEOUT)
    verdict.blocked(tried, address, 80, "tcp")


@pytest.mark.clause("DST-2", "MUST")
def test_own_client_refuses_the_metadata_server(own_client, verdict, world):
    address = world.data.host("metadata").address("ipv4")
    tried = attempt(own_client.call, "fetch", f"http://{address}/?case=own-metadata", TIMEOUT)
    verdict.blocked(tried, address, 80, "tcp")


@pytest.mark.clause("DST-8", "MUST")
def test_own_client_connects_to_the_address_it_judged(own_client, verdict, world):
    private = world.data.host("private-10").address("ipv4")
    tried = attempt(own_client.call, "fetch", f"http://{REBINDING_NAME}/?case=own-rebind",
                    TIMEOUT)
    verdict.evidence({"fetch": tried.describe()})
    verdict.nothing_reached(private, 80, "tcp")
