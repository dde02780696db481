"""The catalogue: the clause list, destination matrices (data) and the
spec-derived cases, each tied to one clause of CLAUSES.md and one level."""
