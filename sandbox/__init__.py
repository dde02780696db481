"""The reference sandbox: App Engine's outbound socket service rebuilt, a
drop-in `socket` module backed by a service that owns the real sockets.

Where things live (one job each):

- `addresses`: host spellings -> addresses (inet_aton forms, embedded IPv4
  in IPv6, host-name normalisation). Pure.
- `policy`: the destination verdict, rule by rule from the documentation. Pure.
- `options`: socket options (the SDK's mock values), families, binding. Pure.
- `ranges` + `data/`: Google and Compute Engine ranges with provenance;
  `python -m sandbox.ranges refresh --goog goog.json --cloud cloud.json`.
- `wire`: frames between instances and the service.
- `service/`: the process that owns real sockets (`python -m sandbox.service`):
  resolution, relays, descriptor table scoped by app, idle clock, byte meter,
  urlfetch.
- `app/`: what runs inside an instance: the `socket` module, `ssl` support,
  http.client via urlfetch. `bootstrap.install` puts it in place.
- `adapter`: the `reference` conformance candidate.

It shares no code or tables with `cases/` or `fakenet/` (DEVELOPERS.md rule 2).
"""
