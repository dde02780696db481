"""The socket service: the only process that owns real sockets.

Instances reach it over a unix socket (see sandbox.wire). It resolves names,
asks sandbox.policy about the exact address before every connect or datagram,
keeps descriptors scoped to the app that made them, meters outgoing bytes,
and reclaims sockets idle for more than 10 minutes on its injectable clock.
Started by the reference adapter, inside the world's namespace:

    python -m sandbox.service --socket PATH [--ca CA.pem]

stdin/stdout carry the adapter's admin requests as JSON lines
(`advance`, `meter`, `stop`); apps cannot reach them.
"""
