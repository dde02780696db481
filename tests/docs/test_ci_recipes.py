"""The CI recipes of docs/ci.md are valid for the CI systems they are written for:
checked against check-jsonschema's vendored GitHub Actions and GitLab CI schemas,
in this process (so the hermetic guard proves nothing is fetched)."""

from __future__ import annotations

from pathlib import Path

import check_jsonschema  # a declared test dependency: missing is an error, not a skip
import pytest
from click.testing import CliRunner

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("recipe, schema", [
    ("ci/github-workflow.yml", "vendor.github-workflows"),
    ("ci/gitlab-ci.yml", "vendor.gitlab-ci"),
])
def test_recipe_is_valid(recipe, schema):
    result = CliRunner().invoke(check_jsonschema.main,
                                ["--builtin-schema", schema, str(DOCS / recipe)])
    assert result.exit_code == 0, result.output
    assert "validation done" in result.output


@pytest.mark.parametrize("recipe", ["ci/github-workflow.yml", "ci/gitlab-ci.yml"])
def test_recipe_uses_the_documented_commands(recipe):
    text = (DOCS / recipe).read_text()
    for command in ("python -m conformance run", "--shard", "--baseline",
                    "python -m conformance merge", "junit.xml", "summary.md"):
        assert command in text, f"{recipe} lacks {command!r}"
    assert recipe in (DOCS / "ci.md").read_text()


def test_a_broken_recipe_is_caught(tmp_path):
    broken = tmp_path / "workflow.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
                      "    steps:\n      - uses: 42\n")
    result = CliRunner().invoke(check_jsonschema.main,
                                ["--builtin-schema", "vendor.github-workflows", str(broken)])
    assert result.exit_code == 1, result.output
