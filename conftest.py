"""Loads the conformance plugin for runs from this source tree.

When the project is pip-installed, the plugin is already loaded through its
`pytest11` entry point (as "conformance"); registering it again here would
fail, so this file then does nothing.
"""

import importlib.metadata
import os


def _plugin_autoloaded() -> bool:
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.value == "conformance.plugin"
               for ep in importlib.metadata.entry_points(group="pytest11"))


pytest_plugins = [] if _plugin_autoloaded() else ["conformance.plugin"]
