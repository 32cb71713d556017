"""GitHub Actions expressions, read by the grammar of GitHub's expression language.

No maintained Python package reads them, so this is a small lexer and recursive-descent parser,
modelled on GitHub's documented grammar (and on actionlint's reading of it): literals (`null`, `true`,
`false`, numbers in JSON form or `0x` hexadecimal, strings in single quotes with `''` for a quote),
context names (`github`, `matrix`, ...), property access (`a.b`, `a.*`), index access (`a['b']`,
`a[0]`), function calls, and the operators `!`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, with
parentheses. Names are case-insensitive, as GitHub reads them; `true`, `false` and `null` are not.

A workflow string holds expressions as `${{ ... }}` templates (`template_expressions`); an `if:`
condition is one expression without them, unless it is written with them (`condition_expressions`).
What the checks need of an expression is `Expression.names`: each context it names and each function
it calls, with its offset in the string it was read from; or `Expression.error`, where and why it
cannot be read.

Bounded: an expression longer than `MAX_TOKENS` tokens or nested deeper than `MAX_NESTING` brackets,
parentheses and `!` is an error, never a recursion error; a string is read once, left to right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_NESTING", "MAX_TOKENS", "Expression", "ExpressionError", "Name", "condition_expressions",
           "template_expressions"]

MAX_TOKENS = 10_000
MAX_NESTING = 64

_SPACE = re.compile(r"[ \t\r\n]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ".", ",", "*")
_KEYWORDS = {"true", "false", "null"}


@dataclass(frozen=True)
class Name:
    """A context an expression names (`kind="context"`) or a function it calls (`kind="function"`)."""

    kind: str
    name: str
    offset: int


@dataclass(frozen=True)
class ExpressionError:
    """Why an expression cannot be read, and the offset where reading stopped."""

    message: str
    offset: int


@dataclass(frozen=True)
class Expression:
    """One expression of a string: where it starts (`${{`, or the condition's first character), its
    text, the names in it, or the error that stopped its reading."""

    offset: int
    text: str
    names: tuple[Name, ...]
    error: ExpressionError | None = None


class _Unreadable(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.error = ExpressionError(message, offset)


@dataclass(frozen=True)
class _Token:
    kind: str  # "ident", "number", "string", an operator, or "end" (`}}` or the end of the text)
    text: str
    offset: int


def _lex(text: str, start: int, template: bool) -> tuple[list[_Token], int]:
    """The tokens from `start` up to `}}` (a template) or the end of the text (a condition), and the
    offset just after them."""
    tokens: list[_Token] = []
    at = start
    while True:
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if len(tokens) > MAX_TOKENS:
            raise _Unreadable(f"more than {MAX_TOKENS} tokens in one expression", at)
        if at >= len(text):
            if template:
                raise _Unreadable("the expression is not closed with '}}'", at)
            tokens.append(_Token("end", "", at))
            return tokens, at
        char = text[at]
        if template and text.startswith("}}", at):
            tokens.append(_Token("end", "}}", at))
            return tokens, at + 2
        if char == "'":
            close = at + 1
            while True:
                close = text.find("'", close)
                if close < 0:
                    raise _Unreadable("a string is not closed with '", at)
                if text.startswith("''", close):
                    close += 2
                    continue
                break
            tokens.append(_Token("string", text[at:close + 1], at))
            at = close + 1
            continue
        if char.isascii() and (char.isalpha() or char == "_"):
            found = _IDENT.match(text, at)
            assert found is not None
            tokens.append(_Token("ident", found.group(), at))
            at = found.end()
            continue
        if char.isdigit() or char == "-":
            number = _NUMBER.match(text, at)
            if number is None:
                raise _Unreadable(f"'{char}' does not start a number", at)
            end = number.end()
            if end < len(text) and (text[end].isalnum() or text[end] in "_."):
                raise _Unreadable(f"a number cannot be followed by '{text[end]}'", end)
            tokens.append(_Token("number", number.group(), at))
            at = end
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, at)), None)
        if operator is None:
            raise _Unreadable(f"unexpected character '{char}'", at)
        tokens.append(_Token(operator, operator, at))
        at += len(operator)


class _Parser:
    """Recursive descent over the tokens, noting each context and function name on the way."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0
        self.names: list[Name] = []

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def expect(self, kind: str, what: str) -> None:
        if self.token.kind != kind:
            self.unexpected(what)
        self.take()

    def unexpected(self, what: str) -> None:
        token = self.token
        shown = "end of the expression" if token.kind == "end" else f"'{token.text}'"
        raise _Unreadable(f"unexpected {shown}: expected {what}", token.offset)

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Unreadable(f"nested deeper than {MAX_NESTING}", self.token.offset)

    def whole(self) -> None:
        if self.token.kind == "end":
            self.unexpected("an expression")
        self.binary(0)
        if self.token.kind != "end":
            self.unexpected("an operator or the end of the expression")

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def binary(self, level: int) -> None:
        if level == len(self._LEVELS):
            self.unary()
            return
        self.binary(level + 1)
        while self.token.kind in self._LEVELS[level]:
            self.take()
            self.binary(level + 1)

    def unary(self) -> None:
        if self.token.kind == "!":
            self.take()
            self.nested()
            self.unary()
            self.depth -= 1
            return
        self.postfix()

    def postfix(self) -> None:
        self.primary()
        while True:
            if self.token.kind == ".":
                self.take()
                if self.token.kind in ("ident", "*"):
                    self.take()
                else:
                    self.unexpected("a property name or '*' after '.'")
            elif self.token.kind == "[":
                self.take()
                self.nested()
                self.binary(0)
                self.depth -= 1
                self.expect("]", "']' closing the index")
            else:
                return

    def primary(self) -> None:
        token = self.token
        if token.kind == "ident":
            self.take()
            if self.token.kind == "(":
                self.names.append(Name("function", token.text, token.offset))
                self.take()
                self.nested()
                if self.token.kind != ")":
                    while True:
                        self.binary(0)
                        if self.token.kind == ",":
                            self.take()
                            continue
                        break
                self.depth -= 1
                self.expect(")", "',' or ')' in the function's arguments")
            elif token.text not in _KEYWORDS:
                self.names.append(Name("context", token.text, token.offset))
        elif token.kind in ("number", "string"):
            self.take()
        elif token.kind == "(":
            self.take()
            self.nested()
            self.binary(0)
            self.depth -= 1
            self.expect(")", "')' closing '('")
        else:
            self.unexpected("a value, a context, a function call or '('")


def _read(text: str, start: int, template: bool) -> tuple[Expression, int]:
    """The expression from `start` (just after `${{` for a template), and the offset after it."""
    origin = start - 3 if template else start
    try:
        tokens, end = _lex(text, start, template)
    except _Unreadable as unreadable:
        return Expression(origin, text[origin:], (), unreadable.error), len(text)
    parser = _Parser(tokens)
    try:
        parser.whole()
    except _Unreadable as unreadable:
        return Expression(origin, text[origin:end], tuple(parser.names), unreadable.error), end
    return Expression(origin, text[origin:end], tuple(parser.names)), end


def template_expressions(text: str) -> list[Expression]:
    """Every `${{ ... }}` of a string, in order. An expression that cannot be read ends the reading
    of the string when it is not closed (where it ends is then unknown)."""
    found: list[Expression] = []
    at = 0
    while True:
        start = text.find("${{", at)
        if start < 0:
            return found
        expression, at = _read(text, start + 3, template=True)
        found.append(expression)


def condition_expressions(text: str) -> list[Expression]:
    """The expressions of an `if:` condition: its `${{ ... }}` templates when it has one (written
    with both `${{` and `}}`), else the whole text as one expression (GitHub reads a condition as an
    expression without them)."""
    if "${{" in text and "}}" in text:
        return template_expressions(text)
    expression, _ = _read(text, 0, template=False)
    return [expression]
