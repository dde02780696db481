"""The world's certificate authority and the server contexts its TLS services use.

One trustme CA per world workdir, persisted as PEM so the bundle path and its
bytes stay the same for the whole run (candidates are told the path through
SSL_CERT_FILE). Leaf certificates are issued on demand, once per name set.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from fakenet.world import Binding

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"


def certificate_names(binding: Binding) -> tuple[str, ...]:
    """A TLS binding's certificate names: the kind's override, else the host's names and IPs."""
    if binding.kind.certificate_names:
        return binding.kind.certificate_names
    return binding.host.names + binding.host.addresses


class WorldTLS:
    """A TLSProvider (fakenet/service.py) backed by one persisted trustme CA."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.bundle = workdir / CA_FILE
        key = workdir / CA_KEY_FILE
        if self.bundle.exists() and key.exists():
            self._ca = trustme.CA.from_pem(self.bundle.read_bytes(), key.read_bytes())
        else:
            self._ca = trustme.CA(organization_name="fakenet world CA")
            key.write_bytes(self._ca.private_key_pem.bytes())
            key.chmod(0o600)
            self._ca.cert_pem.write_to_path(str(self.bundle))
        self._contexts: dict[tuple[str, ...], ssl.SSLContext] = {}

    def server_context(self, names: tuple[str, ...]) -> ssl.SSLContext:
        """A server context whose certificate names `names` (DNS names or IP addresses)."""
        if not names:
            raise ValueError("a certificate needs at least one name")
        context = self._contexts.get(names)
        if context is None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ca.issue_cert(*names).configure_cert(context)
            self._contexts[names] = context
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context trusting only this CA (for self-tests)."""
        return ssl.create_default_context(cafile=str(self.bundle))
