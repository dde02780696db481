"""The mutants of a module, made with cosmic-ray's operators (parso-based, so
the mutated source keeps its layout and a diff shows exactly the change).

A mutant is named by a key that stays put while the module is unchanged:
`path:line:col:operator#n` (n tells apart the replacements one operator makes at
one site, e.g. NumberReplacer's +1 and -1). The verdicts file uses that key.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from cosmic_ray.ast import ast_nodes, get_ast
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator


@dataclass(frozen=True)
class Mutant:
    module: str        # repository-relative path
    operator: str
    occurrence: int    # cosmic-ray's index of this operator's site in the module
    line: int
    col: int
    index: int         # which replacement at this site (0, 1, ...)

    @property
    def key(self) -> str:
        name = self.operator.removeprefix("core/")
        return f"{self.module}:{self.line}:{self.col}:{name}#{self.index}"


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def generate(module: str, source: str, operators: tuple[str, ...],
             per_site: int = 1) -> Iterator[Mutant]:
    """The mutants of `source` by the given operators, in file order per operator,
    at most `per_site` replacements of one operator at one site."""
    tree = get_ast(source)
    skip = annotation_spans(source) if "from __future__ import annotations" in source else []
    for name in operators:
        operator = get_operator(name)()
        seen: dict[tuple[int, int], int] = {}
        occurrence = 0
        for node in ast_nodes(tree):
            for start, _end in operator.mutation_positions(node):
                site = (start[0], start[1])
                index = seen.get(site, 0)
                seen[site] = index + 1
                if index < per_site and not any(a <= site < b for a, b in skip):
                    yield Mutant(module, name, occurrence, start[0], start[1], index)
                occurrence += 1


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations are: with `from __future__ import annotations`
    they are never evaluated, so a mutant there is equivalent by construction."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for ann in found:
            if ann is not None and ann.end_lineno is not None and ann.end_col_offset is not None:
                spans.append(((ann.lineno, ann.col_offset), (ann.end_lineno, ann.end_col_offset)))
    return spans


def mutated_source(source: str, mutant: Mutant) -> str:
    """The module's text with the mutant applied; ValueError if it does not apply."""
    out = mutate_code(source, get_operator(mutant.operator)(), mutant.occurrence)
    if out is None or out == source:
        raise ValueError(f"mutant {mutant.key} does not apply to this source")
    return str(out)


def diff(source: str, mutated: str, module: str) -> str:
    return "\n".join(difflib.unified_diff(
        source.splitlines(), mutated.splitlines(), f"a/{module}", f"b/{module}",
        n=1, lineterm=""))
