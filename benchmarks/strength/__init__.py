"""Suite strength: a mutation test of the catalogue against the reference sandbox.

`benchmarks/mutation.py` is the command; this package holds its parts, one job
each: `scope` (what is mutated, read from scope.toml), `mutants` (the mutants,
made with cosmic-ray's operators), `scratch` (the copy of the tree under /tmp
that is mutated, never the work tree), `resident` (the pytest plugin of a
catalogue process that lives across mutants) and `pool` (the driver's side of
it), `judge` (killed or not, against the unmutated reference), `session`
(results on disk, for resuming), `report` (reports/strength/, with the
hand-written verdicts of verdicts.toml).
"""
