"""Loads the conformance plugin for runs from this source tree.

When the project is pip-installed, pytest already loads the plugin through
its `pytest11` entry point (as "conformance"); registering it again here
would fail, so this file then adds nothing.
"""

from conformance.registry import plugin_autoloaded

pytest_plugins = [] if plugin_autoloaded() else ["conformance.plugin"]
