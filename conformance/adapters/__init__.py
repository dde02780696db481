"""Adapters bundled with the harness. Each plugs in through
conformance.adapter.Adapter exactly as a third party's would (docs/adapters.md)."""
