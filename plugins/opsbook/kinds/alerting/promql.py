"""PromQL, read with a real parser (`promql-parser`): is an expression valid, and which metrics does it read.

The parser's memory grows with the square of how deep an expression nests: 17 KB of nested parentheses
takes it over 5 GB and kills the process, and so does a chain of 8,500 operators (`1+1+1+…`, a tree 8,500
deep). An expression is therefore measured first (`nesting`), without the parser, and one that nests
deeper than `MAX_NESTING` brackets or chains more than `MAX_OPERATORS` operators is answered with an
error and never parsed. Real rules stay far below both: in a corpus of 4,916 expressions from public
rule sets (kube-prometheus, kubernetes-mixin, GitLab's runbooks, awesome-prometheus-alerts) the deepest
nests 8 brackets and the longest chain has 13 operators; at the bounds the parser needs about 30 MB.
"""

from __future__ import annotations

import re
from functools import lru_cache

import promql_parser

__all__ = ["MAX_NESTING", "MAX_OPERATORS", "ParsedExpr", "nesting", "parse_expr"]

MAX_EXPR_LENGTH = 64 * 1024
MAX_NESTING = 64
MAX_OPERATORS = 256

#: What the scanner stops at: a quote, a comment, a bracket, an operator, or a keyword operator.
_TOKEN = re.compile(r"[\"'`#()\[\]{}]|==|!=|>=|<=|[-+*/%^<>]|\b(?:and|or|unless|atan2)\b", re.IGNORECASE)
#: The text of a string, after its opening quote and up to its closing one (or its line's end).
_STRING_BODY = {'"': re.compile(r'(?:[^"\\\n]|\\[^\n])*'),
                "'": re.compile(r"(?:[^'\\\n]|\\[^\n])*"),
                "`": re.compile(r"[^`]*")}


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


def nesting(text: str) -> tuple[int, int]:
    """How deep an expression nests brackets (`(`, `[`, `{`), and how many operators it has outside label
    matchers: read without the parser, skipping strings and comments as its lexer does. Where the two
    could disagree (a quoted string never closed), the scanner counts more, never less: a string ends at
    its line's end."""
    depth = deepest = operators = braces = 0
    position = 0
    while True:
        found = _TOKEN.search(text, position)
        if found is None:
            return deepest, operators
        token, position = found.group(), found.end()
        if token in _STRING_BODY:
            body = _STRING_BODY[token].match(text, position)
            position = body.end() if body else position
            position += text.startswith(token, position)
        elif token == "#":
            newline = text.find("\n", position)
            position = len(text) if newline < 0 else newline + 1
        elif token in "([{":
            depth += 1
            deepest = max(deepest, depth)
            braces += token == "{"
        elif token in ")]}":
            depth = max(depth - 1, 0)
            braces = max(braces - (token == "}"), 0)
        elif not braces:  # `=`, `!=`, `=~` in label matchers are not operators
            operators += 1


@lru_cache(maxsize=65536)
def parse_expr(text: str) -> ParsedExpr:
    """Parse a PromQL expression; the error is the parser's message, or None when it is valid.

    An expression too long or nesting too deep for the parser to read in bounded memory is an error
    without being parsed."""
    if len(text) > MAX_EXPR_LENGTH:
        return ParsedExpr((), f"the expression is longer than {MAX_EXPR_LENGTH} characters")
    deepest, operators = nesting(text)
    if deepest > MAX_NESTING:
        return ParsedExpr((), f"the expression nests {deepest} brackets deep, over the limit of {MAX_NESTING}; "
                              "it was not parsed")
    if operators > MAX_OPERATORS:
        return ParsedExpr((), f"the expression has {operators} operators, over the limit of {MAX_OPERATORS}; "
                              "it was not parsed")
    try:
        tree = promql_parser.parse(text)
    except (ValueError, TypeError, RuntimeError) as error:
        return ParsedExpr((), str(error) or "invalid expression")
    found: set[str] = set()
    _metrics(tree, found)
    return ParsedExpr(tuple(sorted(found)), None)
