"""Fault injection: kills and signals at the harness, and what the reports then say."""
