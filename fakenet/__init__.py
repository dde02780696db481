"""The fake internet: a private network namespace in which every host of
world.toml exists, with DNS, TLS services, echo/sink endpoints and canary
listeners on every address a sandbox must block, all journalled.

`WorldHandle.start()` runs one; `NamespaceUnavailable` says why it cannot."""

from fakenet.handle import WorldError, WorldHandle
from fakenet.namespace import NamespaceUnavailable

__all__ = ["NamespaceUnavailable", "WorldError", "WorldHandle"]
