"""HTTP: http.client (httplib on 2.7) goes through urlfetch unless
GAE_USE_SOCKETS_HTTPLIB is set to anything, the empty string included.
Observable at the world's web server: urlfetch signs the User-Agent.

Each case boots a fresh instance with the variable in its environment, as
app.yaml's env_variables set it, so an implementation that decides at boot,
at import time or per request is exercised alike."""

from __future__ import annotations

import hashlib

import pytest

from conformance.remote import attempt
from fakenet.world import generated_bytes

from .probes import digest

HOST = "www.mailhostingcompany.net"
SIGNATURE = "AppEngine-Google; (+http://code.google.com/appengine; appid: "
UNSET = None


def _instance(instances, value: str | None):
    """A fresh app-a instance booted with GAE_USE_SOCKETS_HTTPLIB = `value` (None: unset)."""
    env = {} if value is None else {"GAE_USE_SOCKETS_HTTPLIB": value}
    return instances.start("app-a", env=env)


def _http_module(inst):
    return inst.module("httplib" if inst.python_major == 2 else "http.client")


def _get(inst, host: str, path: str, timeout: float = 10, tls: bool = False):
    kind, port = ("HTTPSConnection", 443) if tls else ("HTTPConnection", 80)
    conn = _http_module(inst).call(kind, host, port, timeout=timeout)
    conn.call("request", "GET", path)
    response = conn.call("getresponse")
    status = response.status
    body = bytes(response.call("read"))
    conn.call("close")
    return status, body


def _fetch_page(instances, verdict, value: str | None, path: str, tls: bool) -> list[str]:
    """GET `path` from HOST in an instance booted with `value`; check the page came
    back, and return the User-Agents the web server saw for that path."""
    status, body = _get(_instance(instances, value), HOST, path, tls=tls)
    verdict.check(status == 200 and body.startswith(b"hello"), name="response",
                  expected="200 and the page", observed=f"{status} {body[:40]!r}")
    return _user_agents(verdict, path)


def _user_agents(verdict, path: str) -> list[str]:
    """The User-Agent of every request for `path` the web server journalled ("" if none)."""
    return [str(e.detail.get("user_agent") or "") for e in verdict.events(kind="http-request")
            if e.detail.get("target") == path]


@pytest.mark.clause("HTTP-1", "MUST")
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_unset_goes_through_urlfetch(tls, instances, verdict):
    path = f"/?case=http-1-{'https' if tls else 'http'}"
    agents = _fetch_page(instances, verdict, UNSET, path, tls)
    verdict.check(any(SIGNATURE in a and "app-a" in a for a in agents), name="urlfetch",
                  expected=f"the server saw a User-Agent with {SIGNATURE!r}app-a",
                  observed=f"User-Agents seen: {agents}")


APP_AGENT = "conformance-probe/1.0"


@pytest.mark.clause("HTTP-1", "MUST")
@pytest.mark.parametrize(("target", "tls"), [("name", False), ("name", True), ("ipv6", False)],
                         ids=["http", "https", "http-ipv6-literal"])
def test_urlfetch_appends_to_the_apps_user_agent(target, tls, instances, verdict, world):
    """urlfetch *appends* its signature: the app's own User-Agent stays in front.
    The request it makes is still the app's: method, headers and body arrive as
    sent (the server answers a POST with the body's length and digest). The
    connection has http.client's default timeout, the commonest use; the host is
    a name, or an IPv6 literal (urlfetch dials it as a 4-tuple sockaddr)."""
    path = f"/?case=http-1-post-{'https' if tls else 'http'}-{target}"
    host = HOST if target == "name" else world.data.host("public-echo").ipv6[0]
    body = b"urlfetch carries the body\n" * 40
    kind, port = ("HTTPSConnection", 443) if tls else ("HTTPConnection", 80)
    conn = _http_module(_instance(instances, UNSET)).call(kind, host, port)
    conn.call("request", "POST", path, body,
              {"User-Agent": APP_AGENT, "X-Conformance-Probe": "kept"})
    response = conn.call("getresponse")
    status, answer = response.status, bytes(response.call("read"))
    conn.call("close")
    want = f"{len(body)} {hashlib.sha256(body).hexdigest()}\n".encode()
    verdict.check(status == 200 and answer == want, name="response",
                  expected=f"200 and {want!r}", observed=f"{status} {answer[:80]!r}")
    seen = [e.detail for e in verdict.events(kind="http-request")
            if e.detail.get("target") == path]
    verdict.check(len(seen) == 1, name="one-request", expected="the server saw one request",
                  observed=f"{len(seen)} requests")
    agent = str(seen[0].get("user_agent") or "")
    verdict.check(agent.startswith(APP_AGENT + " ") and SIGNATURE + "app-a" in agent,
                  name="appended",
                  expected=f"User-Agent {APP_AGENT!r}, then {SIGNATURE!r}app-a...",
                  observed=repr(agent))
    fields = {str(k).lower(): v for k, v in seen[0].get("headers") or []}
    verdict.check(seen[0].get("method") == "POST" and fields.get("x-conformance-probe") == "kept"
                  and seen[0].get("host") is not None, name="request",
                  expected="a POST with the app's X-Conformance-Probe and Host headers",
                  observed=f"{seen[0].get('method')} headers {sorted(fields)}")


@pytest.mark.clause("HTTP-2", "MUST")
@pytest.mark.parametrize(("value", "tls"),
                         [("", False), ("1", False), ("true", False), ("", True)],
                         ids=["empty", "one", "true", "empty-https"])
def test_set_uses_sockets(value, tls, instances, verdict):
    path = f"/?case=http-2-{value or 'empty'}-{'https' if tls else 'http'}"
    agents = _fetch_page(instances, verdict, value, path, tls)
    verdict.check(bool(agents) and not any(SIGNATURE in a for a in agents), name="sockets",
                  expected="the server saw the request without the urlfetch signature",
                  observed=f"User-Agents seen: {agents}")


@pytest.mark.clause("HTTP-2", "MUST")
@pytest.mark.parametrize("host", ["private-10", "metadata"])
def test_set_applies_socket_restrictions(host, instances, verdict, world):
    inst = _instance(instances, "")
    address = world.data.host(host).address("ipv4")
    tried = attempt(_get, inst, address, "/?case=http-2-blocked", 3)
    verdict.blocked(tried, address, 80, "tcp")


@pytest.mark.clause("HTTP-1", "MUST")
def test_unset_carries_a_large_response(instances, verdict, world):
    """A 4 MiB page through urlfetch comes back whole (urlfetch's own limit on a
    response is 32 MB), checked by digest."""
    body = next(b for b in world.data.http_bodies if b.size)
    status, got = _get(_instance(instances, UNSET), HOST, body.path, timeout=30)
    want = digest(generated_bytes(body.size or 0))
    verdict.check(status == 200 and digest(got) == want, name="body",
                  expected=f"200 and the {body.size} bytes sha256={want[:16]}...",
                  observed=f"{status}, {len(got)} bytes sha256={digest(got)[:16]}...")
