"""Loads the conformance plugin for pytest runs from this source tree.

The plugin is never auto-loaded (no `pytest11` entry point): it adds options
and fixtures that only conformance runs want. Elsewhere, ask for it with
`-p conformance.plugin` (the CLI does).
"""

pytest_plugins = ["conformance.plugin"]
