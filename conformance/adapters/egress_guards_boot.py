"""Bootstraps of the third-party egress guards: run INSIDE their instances.

Each `install_*` configures one library from the egress policy
(egress_policy.toml, named by $CONFORMANCE_EGRESS_POLICY) through the
library's public API, as close to App Engine's policy as the library can
express, and makes it the judge of the instance's socket module. Standard
library, the library itself, and the two modules beside this file only:
nothing of the harness is imported here.
"""

import socket
import sys
import types

import egress_policy
import judged_socket


def provide_own_client(fetch):
    """Offer the library's own HTTP client as module `own_http_client`
    (Capability.OWN_HTTP_CLIENT): `fetch(url, timeout) -> (status, body)`, run
    with the glue out of the way, so only the library judges."""
    def own_fetch(url, timeout=10.0):
        with judged_socket.bypassed():
            return fetch(url, timeout)

    module = types.ModuleType("own_http_client", "the candidate library's own HTTP client")
    module.fetch = own_fetch  # type: ignore[attr-defined]
    sys.modules["own_http_client"] = module


def install_pytest_socket():
    """pytest-socket guards `socket.socket.connect` itself (`socket_allow_hosts`):
    its own patch is the candidate, with no glue in between. It takes an
    allow-list of hosts, addresses and CIDR blocks, so it gets everything
    outside the blocked ranges, plus the exception addresses and hosts."""
    import pytest_socket

    policy = egress_policy.load()
    allowed = [str(net) for net in policy.allowed_networks(block_embedded=True)]
    allowed += list(policy.exception_addresses)
    allowed += [host for exc in policy.exceptions for host in exc.hosts]
    pytest_socket.socket_allow_hosts(allowed)


def install_advocate():
    """advocate's `AddrValidator` judges each resolved address, as in advocate's own
    `validating_create_connection`."""
    from advocate import AddrValidator
    from advocate.packages import ipaddress

    policy = egress_policy.load()
    validator = AddrValidator(
        ip_blacklist={ipaddress.ip_network(str(net)) for net in policy.blocked},
        ip_whitelist={ipaddress.ip_network(a) for a in policy.exception_addresses},
        port_blacklist=set(policy.blocked_ports),
        allow_ipv6=True,
        # Inside the fake internet every world address sits on this machine's
        # loopback: autodetection would refuse the whole world.
        autodetect_local_addresses=False,
    )

    def judge(ip, port, proto):
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        sockaddr = (ip, port, 0, 0) if family == socket.AF_INET6 else (ip, port)
        return validator.is_addrinfo_allowed((family, socket.SOCK_STREAM, 0, "", sockaddr))

    judged_socket.install(judge, "advocate")

    def fetch(url, timeout):
        import advocate

        response = advocate.get(url, timeout=timeout, validator=validator,
                                allow_redirects=False)
        return response.status_code, response.content

    provide_own_client(fetch)


def install_requests_hardened():
    """requests-hardened's SSRF filter (`ip_filter.filter_host`, what its
    session's adapter calls with the URL's host): it has no policy to configure
    beyond on/off and loopback, so the policy file is not consulted."""
    from requests_hardened.ip_filter import InvalidIPAddress, filter_host

    def judge(ip, port, proto):
        try:
            filter_host(ip, port, allow_loopback=False)
        except InvalidIPAddress:
            return False
        return True

    judged_socket.install(judge, "requests-hardened")

    def fetch(url, timeout):
        from requests_hardened import Config, Manager

        manager = Manager(Config(ip_filter_enable=True, ip_filter_allow_loopback_ips=False,
                                 never_redirect=True, default_timeout=(timeout, timeout)))
        response = manager.send_request("GET", url)
        return response.status_code, response.content

    provide_own_client(fetch)
