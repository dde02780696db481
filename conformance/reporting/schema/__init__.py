"""Data only: the JSON Schema of the results file (a package so setuptools ships it)."""
