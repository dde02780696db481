"""Which world account may log in to which mail host and service.

An account (world.toml `[[account]]`) names the services and host names it
is valid for; a login at a binding succeeds only when the password matches
and the binding's host carries one of those names.
"""

from __future__ import annotations

import hmac

from fakenet.world import Account, Binding, World, normalise_name


def authenticate(world: World, binding: Binding, user: str, password: str) -> Account | None:
    """The account `user` logs in to at `binding` with `password`, or None."""
    names = {normalise_name(n) for n in binding.host.names}
    for account in world.accounts:
        if account.user != user or binding.kind.name not in account.services:
            continue
        if not names.intersection(normalise_name(h) for h in account.hosts):
            continue
        if hmac.compare_digest(account.password.encode(), password.encode()):
            return account
    return None
