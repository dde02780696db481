"""The reference sandbox: App Engine's outbound socket service rebuilt, a
drop-in `socket` module backed by a service that owns the real sockets."""
