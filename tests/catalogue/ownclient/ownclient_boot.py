"""Bootstraps of the wrong own-client test candidates (run inside the instance)."""

import http.client
import ipaddress
import socket
import sys
import types
import urllib.parse


def _provide(fetch):
    module = types.ModuleType("own_http_client")
    module.fetch = fetch
    sys.modules["own_http_client"] = module


def _get(url, timeout):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def install_naive():
    _provide(_get)


def install_reresolving():
    def fetch(url, timeout):
        host = urllib.parse.urlsplit(url).hostname
        first = socket.getaddrinfo(host, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        if not ipaddress.ip_address(first).is_global:
            raise OSError(13, f"refused: {first} is not global")
        return _get(url, timeout)   # resolves the name again: the flaw under test

    _provide(fetch)


def install_denying():
    def fetch(url, timeout):
        raise OSError(13, "refused: everything")

    _provide(fetch)
