"""PromQL, read with a real parser (`promql-parser`): is an expression valid, and which metrics does it read."""

from __future__ import annotations

from functools import lru_cache

import promql_parser

__all__ = ["ParsedExpr", "parse_expr"]

MAX_EXPR_LENGTH = 64 * 1024


class ParsedExpr:
    """An expression's validity and the metric names it reads."""

    __slots__ = ("error", "metrics")

    def __init__(self, metrics: tuple[str, ...], error: str | None) -> None:
        self.metrics = metrics
        self.error = error


def _metrics(node: object, found: set[str], depth: int = 0) -> None:
    if node is None or depth > 500:
        return
    if isinstance(node, promql_parser.VectorSelector):
        if node.name:
            found.add(node.name)
        for matcher in node.matchers.matchers:
            if matcher.name == "__name__" and matcher.op == promql_parser.MatchOp.Equal:
                found.add(matcher.value)
        return
    if isinstance(node, promql_parser.MatrixSelector):
        _metrics(node.vector_selector, found, depth + 1)
        return
    for attribute in ("lhs", "rhs", "expr", "param"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, (str, int, float)):
            _metrics(child, found, depth + 1)
    for argument in getattr(node, "args", None) or ():
        _metrics(argument, found, depth + 1)


@lru_cache(maxsize=65536)
def parse_expr(text: str) -> ParsedExpr:
    """Parse a PromQL expression; the error is the parser's message, or None when it is valid."""
    if len(text) > MAX_EXPR_LENGTH:
        return ParsedExpr((), f"the expression is longer than {MAX_EXPR_LENGTH} characters")
    try:
        tree = promql_parser.parse(text)
    except (ValueError, TypeError, RuntimeError) as error:
        return ParsedExpr((), str(error) or "invalid expression")
    found: set[str] = set()
    _metrics(tree, found)
    return ParsedExpr(tuple(sorted(found)), None)
