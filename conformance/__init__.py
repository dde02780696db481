"""The conformance harness: adapter API, the agent that runs inside a
candidate, instances, the outcome model, the pytest plugin, CLI and reports."""
