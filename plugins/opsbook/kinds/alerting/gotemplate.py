"""Go templates as Prometheus parses them, for alert labels and annotations; no opsbook types.

Prometheus (`rulefmt.testTemplateParsing`, run by `promtool check rules` and at every rule load) parses
each label and annotation value of an alerting rule with Go's `text/template`, after prepending the
definitions of `$labels`, `$externalLabels`, `$externalURL` and `$value`, with its own functions and Go's
builtins defined. A template that does not parse is refused. This module is a port of Go's
`text/template/parse` lexer and parser (the Go 1.19 sources Debian's promtool 2.42 is built with), kept
close to them so that what it accepts, its messages and the line it names are Go's: actions, pipelines,
declarations and assignments with their scoping, `if`/`else if`/`range`/`with`/`else`/`end`, `define`,
`template`, `block`, `break`/`continue` inside `range`, comments, trim markers, strings, raw strings,
characters, numbers as `strconv` reads them, fields and chains, parenthesised pipelines, and the check
that every function and variable is defined. It only parses: nothing is executed.

Two dialects (`Dialect`): `PROMETHEUS`, the newest Prometheus (its functions include `toDuration`, `now`
(3.6) and `urlQueryEscape` (3.8); Go 1.23 and later accept `{{else with}}`), which opsbook checks
against, and `PROMETHEUS_2_42`, what promtool 2.42 accepts; the differential test holds the second to
promtool and names every template on which the two differ.

Input is untrusted: a template longer than `MAX_TEMPLATE_LENGTH` characters, or nesting control
structures and parentheses deeper than `MAX_DEPTH`, is refused with an error of its own (Go has no such
limits) rather than parsed. Positions are offsets in Python characters (code points) into the value.

`parse_template` gives the error, if any, and the references to variables and fields (`$labels.instance`,
`.Value`) with their places; `placeholders` rewrites the simple actions of a template, such as
`{{ $labels.instance }}` or `{{ $value | humanize }}`, into a readable mark such as `‹instance›`.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, NoReturn

__all__ = ["Dialect", "GO_BUILTINS", "PROMETHEUS_2_42_FUNCTIONS", "NEWER_FUNCTIONS", "PROMETHEUS",
           "PROMETHEUS_2_42", "PROMETHEUS_DEFINITIONS", "MAX_TEMPLATE_LENGTH", "MAX_DEPTH", "TemplateError",
           "Reference", "Action", "Template", "parse_template", "placeholders", "go_quote"]

#: The functions of Go's text/template (`builtins()` in text/template/funcs.go).
GO_BUILTINS = frozenset({"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
                         "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"})
#: The functions Prometheus 2.42 defines for templates (`NewTemplateExpander` in template/template.go).
PROMETHEUS_2_42_FUNCTIONS = frozenset({
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title",
    "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "stripPort", "stripDomain", "humanize",
    "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix",
    "externalURL", "parseDuration"})
#: Functions added after 2.42: `toDuration` and `now` in Prometheus 3.6, `urlQueryEscape` in 3.8.
NEWER_FUNCTIONS = frozenset({"toDuration", "now", "urlQueryEscape"})
#: What Prometheus prepends to every label and annotation value before parsing it (rulefmt.go).
PROMETHEUS_DEFINITIONS = ("{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
                          "{{$externalURL := .ExternalURL}}{{$value := .Value}}")
MAX_TEMPLATE_LENGTH = 256 * 1024
MAX_DEPTH = 64


@dataclass(frozen=True)
class Dialect:
    """What one version of Prometheus accepts: the functions defined, and whether `{{else with}}` is
    (Go 1.23 and later)."""

    name: str
    functions: frozenset[str]
    else_with: bool


PROMETHEUS = Dialect("Prometheus 3.8 or later", GO_BUILTINS | PROMETHEUS_2_42_FUNCTIONS | NEWER_FUNCTIONS, True)
PROMETHEUS_2_42 = Dialect("Prometheus 2.42 (Go 1.19)", GO_BUILTINS | PROMETHEUS_2_42_FUNCTIONS, False)


@dataclass(frozen=True)
class TemplateError:
    """Why a template does not parse.

    Attributes:
        message: Go's message, without its `template: NAME:LINE: ` prefix.
        go_line: The line Go names (1-based, in the value): that of the last token its parser read.
        offset: Where in the value the fault is (0-based, in characters): the token at fault.
        line: The 1-based line of `offset` in the value.
        column: The 1-based column of `offset` in its line.
    """

    message: str
    go_line: int
    offset: int
    line: int
    column: int

    def go_error(self, name: str) -> str:
        """The error as Go prints it for a template named `name` (Prometheus names `__alert_` + the alert)."""
        return f"template: {name}:{self.go_line}: {self.message}"


@dataclass(frozen=True)
class Reference:
    """A variable or field a template reads: `$labels.instance` is `$labels` with the fields `instance`;
    `.Labels.instance` is `.` with `Labels`, `instance`. Offsets are in the value, end excluded."""

    variable: str
    fields: tuple[str, ...]
    start: int
    end: int

    @property
    def name(self) -> str:
        if self.variable == ".":
            return "." + ".".join(self.fields)
        return ".".join((self.variable, *self.fields))


@dataclass(frozen=True)
class Action:
    """An action `{{ ... }}` that prints a value (not a control structure), with the references it reads.

    `start` is the offset of its `{{`, `end` that just after its `}}`. `shown` is the one reference it
    prints when it is simple: that reference alone, or passed through functions with no other reference,
    as in `{{ $value | humanize }}` or `{{ toUpper $labels.env }}`; otherwise None.
    """

    start: int
    end: int
    references: tuple[Reference, ...]
    shown: Reference | None


@dataclass(frozen=True)
class Template:
    """A parsed template: its error, or its actions and references (empty when it has an error)."""

    text: str
    error: TemplateError | None
    actions: tuple[Action, ...] = ()
    references: tuple[Reference, ...] = ()


def parse_template(text: str, dialect: Dialect = PROMETHEUS, *, name: str = "__alert_",
                   definitions: str = PROMETHEUS_DEFINITIONS) -> Template:
    """Parse `text` as Prometheus parses a label or annotation value: `definitions` prepended, the
    dialect's functions defined. `name` is the template's name (it matters only to `{{define}}`)."""
    if len(text) > MAX_TEMPLATE_LENGTH:
        return Template(text, _error(text, f"template longer than {MAX_TEMPLATE_LENGTH} characters: "
                                           "not parsed", 1, 0))
    if "{{" not in text:  # plain text: no action, nothing to refuse
        return Template(text, None)
    source = definitions + text
    shared = _Shared(dialect, len(definitions))
    tree = _Tree(name, shared)
    try:
        tree.parse_all(source, _prelude(definitions, dialect))
    except _Failure as failure:
        offset = min(max(failure.at - len(definitions), 0), len(text))
        if failure.message.startswith("unclosed") and shared.lexer is not None:
            offset = min(max(shared.lexer.last_left_delim - len(definitions), 0), len(text))
        return Template(text, _error(text, failure.message, failure.line, offset))
    except RecursionError:
        return Template(text, _error(text, "template nests too deeply: not parsed", 1, 0))
    actions = tuple(action for action in shared.actions if action.start >= 0)
    references = tuple(sorted((ref for ref in shared.references if ref.start >= 0), key=lambda r: r.start))
    return Template(text, None, actions, references)


@functools.lru_cache(maxsize=16)
def _prelude(definitions: str, dialect: Dialect) -> tuple[tuple[str, ...], int] | None:
    """The variables `definitions` declares and its length, when it is a run of plain actions that parse
    alone (Prometheus' are): a template is then lexed and parsed from just after them, with the parser's
    state theirs leaves (the variables, a root that is not empty, the line), not parsed again each time.
    None otherwise: the definitions are parsed with each template."""
    if not definitions:
        return None
    shared = _Shared(dialect, 0)
    tree = _Tree("", shared)
    try:
        tree.parse_all(definitions)
    except (_Failure, RecursionError):
        return None
    if tree.root is None or not tree.root.children or any(node.kind != "action" for node in tree.root.children):
        return None
    return tuple(tree.vars), len(definitions)


def _mark(reference: Reference) -> str:
    last = reference.fields[-1] if reference.fields else reference.variable.lstrip("$")
    return f"‹{last}›" if last else "‹.›"


def placeholders(text: str, mark: Callable[[Reference], str] = _mark, dialect: Dialect = PROMETHEUS) -> str:
    """`text` with each simple action (see `Action.shown`) replaced by `mark` of the reference it shows:
    `{{ $labels.instance }}` becomes `‹instance›`, `{{ $value | humanize }}` `‹value›`. Other actions and
    control structures are kept as written; a template that does not parse is returned unchanged."""
    template = parse_template(text, dialect)
    if template.error is not None:
        return text
    parts: list[str] = []
    position = 0
    for action in sorted(template.actions, key=lambda a: a.start):
        if action.shown is None or action.start < position:
            continue
        parts.append(text[position:action.start])
        parts.append(mark(action.shown))
        position = action.end
    parts.append(text[position:])
    return "".join(parts)


def _error(text: str, message: str, go_line: int, offset: int) -> TemplateError:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return TemplateError(message, go_line, offset, line, column)


# --- Go's quoting, as fmt's %q and %#U print ---------------------------------------------------------

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _is_print(char: str) -> bool:
    """Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    code = ord(char)
    if code < 0x80:
        return 0x20 <= code < 0x7F
    return unicodedata.category(char)[0] in "LMNPS"


def go_quote(text: str) -> str:
    """`text` quoted as Go's `strconv.Quote` (and fmt's `%q`) quotes it."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in "\"\\":
            out.append("\\" + char)
        elif 0xD800 <= code <= 0xDFFF:  # not a character: Go would hold invalid UTF-8 there
            out.append("\\ufffd")
        elif _is_print(char):
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _unicode(char: str) -> str:
    """A rune as Go's `%#U` prints it: `U+0023 '#'`."""
    code = ord(char)
    return f"U+{code:04X} '{char}'" if _is_print(char) else f"U+{code:04X}"


# --- the lexer (text/template/parse/lex.go) ---------------------------------------------------------

(ERROR, BOOL, CHAR, CHAR_CONSTANT, COMMENT, COMPLEX, ASSIGN, DECLARE, EOF, FIELD, IDENTIFIER, LEFT_DELIM,
 LEFT_PAREN, NUMBER, PIPE, RAW_STRING, RIGHT_DELIM, RIGHT_PAREN, SPACE, STRING, TEXT, VARIABLE, KEYWORD,
 BLOCK, BREAK, CONTINUE, DOT, DEFINE, ELSE, END, IF, NIL, RANGE, TEMPLATE, WITH) = range(35)

_KEYWORDS = {".": DOT, "block": BLOCK, "break": BREAK, "continue": CONTINUE, "define": DEFINE, "else": ELSE,
             "end": END, "if": IF, "range": RANGE, "nil": NIL, "template": TEMPLATE, "with": WITH}
_SPACES = " \t\r\n"
_LEFT, _RIGHT = "{{", "}}"


class _Item(NamedTuple):
    typ: int
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ > KEYWORD:
            return f"<{self.val}>"
        if len(self.val.encode("utf-8", "surrogatepass")) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


_CLOSED = _Item(ERROR, 0, "", 0)  # what Go's parser reads from the lexer's channel once it is closed


def _is_space(char: str) -> bool:
    return char != "" and char in _SPACES


def _is_alphanumeric(char: str) -> bool:
    return char == "_" or char.isalpha() or char.isdecimal()


class _Lexer:
    """Go's lexer, one item at a time (Go runs it in a goroutine behind an unbuffered channel)."""

    def __init__(self, text: str, break_ok: bool = True, continue_ok: bool = True) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.at_eof = False
        self.paren_depth = 0
        self.line = 1
        self.start_line = 1
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self.items: deque[_Item] = deque()
        self.state: Callable[[], object] | None = self.lex_text
        self.last_left_delim = 0

    def next_item(self) -> _Item:
        while not self.items and self.state is not None:
            self.state = self.state()  # type: ignore[assignment]
        return self.items.popleft() if self.items else _CLOSED

    # Reading runes; "" stands for Go's eof.
    def next(self) -> str:
        if self.pos >= len(self.input):
            self.at_eof = True
            return ""
        char = self.input[self.pos]
        self.pos += 1
        if char == "\n":
            self.line += 1
        return char

    def peek(self) -> str:
        char = self.next()
        self.backup()
        return char

    def backup(self) -> None:
        if not self.at_eof and self.pos > 0:
            self.pos -= 1
            if self.input[self.pos] == "\n":
                self.line -= 1

    def emit(self, typ: int) -> None:
        self.items.append(_Item(typ, self.start, self.input[self.start:self.pos], self.start_line))
        self.start = self.pos
        self.start_line = self.line

    def ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def accept(self, valid: str) -> bool:
        char = self.next()
        if char != "" and char in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            char = self.next()
            if char == "" or char not in valid:
                break
        self.backup()

    def errorf(self, message: str) -> object:
        """Emit an error item; its None ends the lexing."""
        self.items.append(_Item(ERROR, self.start, message, self.start_line))
        return None

    def has_left_trim_marker(self, at: int) -> bool:
        return at + 1 < len(self.input) and self.input[at] == "-" and self.input[at + 1] in _SPACES

    def has_right_trim_marker(self, at: int) -> bool:
        return at + 1 < len(self.input) and self.input[at] in _SPACES and self.input[at + 1] == "-"

    def at_right_delim(self) -> tuple[bool, bool]:
        if self.has_right_trim_marker(self.pos) and self.input.startswith(_RIGHT, self.pos + 2):
            return True, True
        if self.input.startswith(_RIGHT, self.pos):
            return True, False
        return False, False

    def left_trim_length(self, at: int) -> int:
        end = at
        while end < len(self.input) and self.input[end] in _SPACES:
            end += 1
        return end - at

    # State functions: each returns the next one, or None when the input ends or is in error.
    def lex_text(self) -> object:
        found = self.input.find(_LEFT, self.pos)
        if found >= 0:
            self.pos = found
            trim = 0
            if self.has_left_trim_marker(self.pos + len(_LEFT)):
                before = self.input[self.start:self.pos]
                trim = len(before) - len(before.rstrip(_SPACES))
            self.pos -= trim
            if self.pos > self.start:
                self.line += self.input.count("\n", self.start, self.pos)
                self.emit(TEXT)
            self.pos += trim
            self.ignore()
            return self.lex_left_delim
        self.pos = len(self.input)
        if self.pos > self.start:
            self.line += self.input.count("\n", self.start, self.pos)
            self.emit(TEXT)
        self.emit(EOF)
        return None

    def lex_left_delim(self) -> object:
        self.last_left_delim = self.pos
        self.pos += len(_LEFT)
        after = 2 if self.has_left_trim_marker(self.pos) else 0
        if self.input.startswith("/*", self.pos + after):
            self.pos += after
            self.ignore()
            return self.lex_comment
        self.emit(LEFT_DELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self) -> object:
        self.pos += 2
        found = self.input.find("*/", self.pos)
        if found < 0:
            return self.errorf("unclosed comment")
        self.pos = found + 2
        delim, trim = self.at_right_delim()
        if not delim:
            return self.errorf("comment ends before closing delimiter")
        if trim:
            self.pos += 2
        self.pos += len(_RIGHT)
        if trim:
            self.pos += self.left_trim_length(self.pos)
        self.ignore()
        return self.lex_text

    def lex_right_delim(self) -> object:
        trim = self.has_right_trim_marker(self.pos)
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(_RIGHT)
        self.emit(RIGHT_DELIM)
        if trim:
            self.pos += self.left_trim_length(self.pos)
            self.ignore()
        return self.lex_text

    def lex_inside_action(self) -> object:
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            return self.errorf("unclosed left paren")
        char = self.next()
        if char == "":
            return self.errorf("unclosed action")
        if _is_space(char):
            self.backup()  # put the space back in case we have " -}}"
            return self.lex_space
        if char == "=":
            self.emit(ASSIGN)
        elif char == ":":
            if self.next() != "=":
                return self.errorf("expected :=")
            self.emit(DECLARE)
        elif char == "|":
            self.emit(PIPE)
        elif char == '"':
            return self.lex_quote
        elif char == "`":
            return self.lex_raw_quote
        elif char == "$":
            return self.lex_variable
        elif char == "'":
            return self.lex_char
        elif char == "." and self.pos < len(self.input) and not "0" <= self.input[self.pos] <= "9":
            return self.lex_field
        elif char in ".+-" or "0" <= char <= "9":  # '.' followed by a digit starts a number
            self.backup()
            return self.lex_number
        elif _is_alphanumeric(char):
            self.backup()
            return self.lex_identifier
        elif char == "(":
            self.emit(LEFT_PAREN)
            self.paren_depth += 1
        elif char == ")":
            self.emit(RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self.errorf(f"unexpected right paren {_unicode(char)}")
        elif ord(char) < 0x80 and _is_print(char):
            self.emit(CHAR)
        else:
            return self.errorf(f"unrecognized character in action: {_unicode(char)}")
        return self.lex_inside_action

    def lex_space(self) -> object:
        spaces = 0
        while _is_space(self.peek()):
            self.next()
            spaces += 1
        if self.has_right_trim_marker(self.pos - 1) and self.input.startswith(_RIGHT, self.pos + 1):
            self.backup()  # before the space
            if spaces == 1:
                return self.lex_right_delim
        self.emit(SPACE)
        return self.lex_inside_action

    def lex_identifier(self) -> object:
        while True:
            char = self.next()
            if _is_alphanumeric(char):
                continue
            self.backup()
            word = self.input[self.start:self.pos]
            if not self.at_terminator():
                return self.errorf(f"bad character {_unicode(char)}")
            keyword = _KEYWORDS.get(word)
            if keyword is not None:
                if keyword == BREAK and not self.break_ok or keyword == CONTINUE and not self.continue_ok:
                    self.emit(IDENTIFIER)
                else:
                    self.emit(keyword)
            elif word[0] == ".":
                self.emit(FIELD)
            elif word in ("true", "false"):
                self.emit(BOOL)
            else:
                self.emit(IDENTIFIER)
            return self.lex_inside_action

    def lex_field(self) -> object:
        return self.lex_field_or_variable(FIELD)

    def lex_variable(self) -> object:
        if self.at_terminator():  # nothing interesting follows: "$"
            self.emit(VARIABLE)
            return self.lex_inside_action
        return self.lex_field_or_variable(VARIABLE)

    def lex_field_or_variable(self, typ: int) -> object:
        if self.at_terminator():  # nothing interesting follows: "." or "$"
            self.emit(VARIABLE if typ == VARIABLE else DOT)
            return self.lex_inside_action
        while True:
            char = self.next()
            if not _is_alphanumeric(char):
                self.backup()
                break
        if not self.at_terminator():
            return self.errorf(f"bad character {_unicode(char)}")
        self.emit(typ)
        return self.lex_inside_action

    def at_terminator(self) -> bool:
        char = self.peek()
        if _is_space(char) or char in ("", ".", ",", "|", ":", ")", "("):
            return True
        return self.input.startswith(_RIGHT, self.pos)

    def lex_char(self) -> object:
        return self.lex_escaped("'", "unterminated character constant", CHAR_CONSTANT)

    def lex_escaped(self, quote: str, unterminated: str, typ: int) -> object:
        """A character constant or a quoted string (Go's lexChar and lexQuote): up to the closing
        `quote`, a backslash escaping the next character, never across a line end."""
        while True:
            char = self.next()
            if char == "\\":
                escaped = self.next()
                if escaped != "" and escaped != "\n":
                    continue
                return self.errorf(unterminated)
            if char in ("", "\n"):
                return self.errorf(unterminated)
            if char == quote:
                break
        self.emit(typ)
        return self.lex_inside_action

    def lex_number(self) -> object:
        if not self.scan_number():
            return self.errorf(f"bad number syntax: {go_quote(self.input[self.start:self.pos])}")
        sign = self.peek()
        if sign in ("+", "-"):
            if not self.scan_number() or self.input[self.pos - 1] != "i":
                return self.errorf(f"bad number syntax: {go_quote(self.input[self.start:self.pos])}")
            self.emit(COMPLEX)
        else:
            self.emit(NUMBER)
        return self.lex_inside_action

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 10 + 1 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 16 + 6 + 1 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if _is_alphanumeric(self.peek()):
            self.next()
            return False
        return True

    def lex_quote(self) -> object:
        return self.lex_escaped('"', "unterminated quoted string", STRING)

    def lex_raw_quote(self) -> object:
        while True:
            char = self.next()
            if char == "":
                return self.errorf("unterminated raw quoted string")
            if char == "`":
                break
        self.emit(RAW_STRING)
        return self.lex_inside_action


# --- strconv, as far as the parser uses it ---------------------------------------------------------

class _SyntaxError(Exception):
    """strconv.ErrSyntax; its message is Go's."""

    def __str__(self) -> str:
        return "invalid syntax"


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_HEX = "0123456789abcdefABCDEF"


def _unquote_char(text: str, quote: str) -> tuple[str, str]:
    """strconv.UnquoteChar: the first character of `text` (an escape read) and the rest."""
    if not text:
        raise _SyntaxError
    char = text[0]
    if char == quote and quote in "'\"":
        raise _SyntaxError
    if char != "\\":
        return char, text[1:]
    if len(text) <= 1:
        raise _SyntaxError
    kind, rest = text[1], text[2:]
    if kind in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[kind], rest
    if kind in "xuU":
        count = {"x": 2, "u": 4, "U": 8}[kind]
        if len(rest) < count or any(c not in _HEX for c in rest[:count]):
            raise _SyntaxError
        code = int(rest[:count], 16)
        if kind != "x" and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
            raise _SyntaxError
        return chr(code), rest[count:]
    if "0" <= kind <= "7":
        if len(rest) < 2 or any(not "0" <= c <= "7" for c in rest[:2]):
            raise _SyntaxError
        code = int(kind + rest[:2], 8)
        if code > 255:
            raise _SyntaxError
        return chr(code), rest[2:]
    if kind in "'\"":
        if kind != quote:
            raise _SyntaxError
        return kind, rest
    raise _SyntaxError


def _unquote(token: str) -> str:
    """strconv.Unquote of a string token as the lexer cut it ("..." or `...`)."""
    if token[0] == "`":
        if len(token) < 2 or token[-1] != "`" or "`" in token[1:-1]:
            raise _SyntaxError
        return token[1:-1].replace("\r", "")
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise _SyntaxError
    rest = token[1:]
    out = []
    while rest and rest[0] != '"':
        if rest[0] == "\n":
            raise _SyntaxError
        char, rest = _unquote_char(rest, '"')
        out.append(char)
    if rest != '"':
        raise _SyntaxError
    return "".join(out)


def _underscore_ok(text: str) -> bool:
    """strconv.underscoreOK: underscores only between digits, or between a base prefix and a digit."""
    saw = "^"
    if text[:1] in ("+", "-"):
        text = text[1:]
    hexadecimal = False
    index = 0
    if len(text) >= 2 and text[0] == "0" and text[1].lower() in "box":
        index, saw, hexadecimal = 2, "0", text[1].lower() == "x"
    for char in text[index:]:
        if "0" <= char <= "9" or hexadecimal and "a" <= char.lower() <= "f":
            saw = "0"
            continue
        if char == "_":
            if saw != "0":
                return False
            saw = "_"
            continue
        if saw == "_":
            return False
        saw = "!"
    return saw != "_"


def _parse_uint(text: str) -> int | None:
    """strconv.ParseUint(text, 0, 64), or None when it fails."""
    if not text:
        return None
    whole, base = text, 10
    if text[0] == "0":
        prefix = text[1].lower() if len(text) >= 3 else ""
        base = {"b": 2, "o": 8, "x": 16}.get(prefix, 8)
        text = text[2:] if prefix in ("b", "o", "x") else text[1:]
    value = 0
    underscores = False
    for char in text:
        if char == "_":
            underscores = True
            continue
        if "0" <= char <= "9":
            digit = ord(char) - 48
        elif "a" <= char.lower() <= "z" and char.isascii():
            digit = ord(char.lower()) - 87
        else:
            return None
        if digit >= base:
            return None
        value = value * base + digit
        if value > 0xFFFFFFFFFFFFFFFF:
            return None
    if underscores and not _underscore_ok(whole):
        return None
    return value


def _parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), or None when it fails."""
    if not text:
        return None
    negative = text[0] == "-"
    body = text[1:] if text[0] in "+-" else text
    value = _parse_uint(body)
    if value is None:
        return None
    if not negative and value >= 1 << 63 or negative and value > 1 << 63:
        return None
    return -value if negative else value


def _read_float(text: str) -> tuple[bool, bool]:
    """strconv's readFloat on all of `text`: (whether it is a float's syntax, whether it is hexadecimal)."""
    i, underscores, hexadecimal = 0, False, False
    if text[:1] in ("+", "-"):
        i += 1
    if i + 2 < len(text) and text[i] == "0" and text[i + 1] in "xX":
        i += 2
        hexadecimal = True
    saw_dot = saw_digits = False
    while i < len(text):
        char = text[i]
        if char == "_":
            underscores = True
        elif char == ".":
            if saw_dot:
                break
            saw_dot = True
        elif "0" <= char <= "9" or hexadecimal and char in _HEX:
            saw_digits = True
        else:
            break
        i += 1
    if not saw_digits:
        return False, hexadecimal
    if i < len(text) and text[i] in ("pP" if hexadecimal else "eE"):
        i += 1
        if i < len(text) and text[i] in "+-":
            i += 1
        if i >= len(text) or not "0" <= text[i] <= "9":
            return False, hexadecimal
        while i < len(text) and ("0" <= text[i] <= "9" or text[i] == "_"):
            underscores = underscores or text[i] == "_"
            i += 1
    elif hexadecimal:
        return False, hexadecimal  # a hexadecimal float must have an exponent
    if underscores and not _underscore_ok(text[:i]):
        return False, hexadecimal
    return i == len(text), hexadecimal


def _parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64), or None when it fails (bad syntax, or out of range)."""
    ok, hexadecimal = _read_float(text)
    if not ok:
        return None
    clean = text.replace("_", "")
    try:
        value = float.fromhex(clean) if hexadecimal else float(clean)
    except (OverflowError, ValueError):
        return None
    return None if math.isinf(value) else value


def _number_error(text: str, typ: int) -> str | None:
    """Why Go's `newNumber` refuses a number, character or complex token; None when it accepts it."""
    if typ == CHAR_CONSTANT:
        try:
            _, tail = _unquote_char(text[1:], "'")
        except _SyntaxError as error:
            return str(error)
        return None if tail == "'" else f"malformed character constant: {text}"
    if typ == COMPLEX:  # fmt.Sscan of a complex128: the two numbers the lexer cut, each as ParseFloat reads it
        scanner = _Lexer(text)
        scanner.scan_number()
        for part in (text[:scanner.pos], text[scanner.pos:-1]):
            if _parse_float(part) is None:
                return f"strconv.ParseFloat: parsing {go_quote(part)}: invalid syntax"
        return None
    if text.endswith("i") and _parse_float(text[:-1]) is not None:
        return None
    if _parse_uint(text) is not None or _parse_int(text) is not None:
        return None
    if _parse_float(text) is not None:
        if not any(c in text for c in ".eEpP"):
            return f"integer overflow: {go_quote(text)}"
        return None
    return f"illegal number syntax: {go_quote(text)}"


# --- the parser (text/template/parse/parse.go) -------------------------------------------------------

@dataclass
class _Node:
    kind: str
    pos: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)
    end: int = 0

    def __str__(self) -> str:
        if self.kind == "end":
            return "{{end}}"
        if self.kind == "else":
            return "{{else}}"
        return self.text


class _Failure(Exception):
    def __init__(self, message: str, line: int, at: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.at = at


@dataclass
class _Shared:
    """What the trees of one parse share: the dialect, the lexer, the templates defined, what was found."""

    dialect: Dialect
    offset: int
    lexer: _Lexer | None = None
    parse_name: str = ""
    tree_set: dict[str, _Tree] = field(default_factory=dict)
    depth: int = 0
    actions: list[Action] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


_OPERAND_START = frozenset({BOOL, CHAR_CONSTANT, COMPLEX, DOT, FIELD, IDENTIFIER, NUMBER, NIL, RAW_STRING, STRING,
                            VARIABLE, LEFT_PAREN})
_NOT_EXECUTABLE = frozenset({"bool", "dot", "nil", "number", "string"})
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0")


def _is_empty_tree(node: _Node | None) -> bool:
    """parse.IsEmptyTree: nothing but space and comments."""
    if node is None:
        return True
    if node.kind == "list":
        return all(_is_empty_tree(child) for child in node.children)
    if node.kind == "text":
        return all(c in _GO_SPACES or unicodedata.category(c) == "Zs" or c in "\u2028\u2029" for c in node.text)
    return node.kind == "comment"


class _Tree:
    """One template of a parse: the top-level one, or one that `define` or `block` introduces."""

    def __init__(self, name: str, shared: _Shared) -> None:
        self.name = name
        self.shared = shared
        self.functions = shared.dialect.functions
        self.token: list[_Item] = [_CLOSED, _CLOSED, _CLOSED]
        self.peek_count = 0
        self.vars: list[str] = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.root: _Node | None = None

    # Errors
    def errorf(self, message: str, at: int | None = None) -> NoReturn:
        raise _Failure(message, self.token[0].line, self.token[0].pos if at is None else at)

    def unexpected(self, token: _Item, context: str) -> NoReturn:
        if token.typ == ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in action started at {self.shared.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action"):]
            self.errorf(f"{token}{extra}", token.pos)
        self.errorf(f"unexpected {token} in {context}", token.pos)

    # Tokens
    @property
    def lexer(self) -> _Lexer:
        assert self.shared.lexer is not None
        return self.shared.lexer

    def next(self) -> _Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lexer.next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: _Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: _Item, t1: _Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> _Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lexer.next_item()
        return self.token[0]

    def next_non_space(self) -> _Item:
        while True:
            token = self.next()
            if token.typ != SPACE:
                return token

    def peek_non_space(self) -> _Item:
        token = self.next_non_space()
        self.backup()
        return token

    def expect(self, expected: int, context: str) -> _Item:
        token = self.next_non_space()
        if token.typ != expected:
            self.unexpected(token, context)
        return token

    def expect_one_of(self, expected1: int, expected2: int, context: str) -> _Item:
        token = self.next_non_space()
        if token.typ not in (expected1, expected2):
            self.unexpected(token, context)
        return token

    def deeper(self) -> None:
        self.shared.depth += 1
        if self.shared.depth > MAX_DEPTH:
            self.errorf(f"template nests deeper than {MAX_DEPTH} levels: not parsed")

    # Templates
    def parse_all(self, text: str, prelude: tuple[tuple[str, ...], int] | None = None) -> None:
        """Parse `text`; with a `prelude` (see `_prelude`), from just after the definitions it starts with."""
        functions = self.functions
        lexer = _Lexer(text, "break" not in functions, "continue" not in functions)
        self.shared.lexer = lexer
        self.shared.parse_name = self.name
        root = None
        if prelude is not None:
            variables, length = prelude
            lexer.pos = lexer.start = length
            lexer.line = lexer.start_line = 1 + text.count("\n", 0, length)
            self.vars = list(variables)
            root = _Node("list", 0, children=[_Node("action", 0)])  # the definitions' actions
        self.parse(root)
        self.add()

    def sub_tree(self, name: str) -> _Tree:
        return _Tree(name, self.shared)

    def add(self) -> None:
        tree = self.shared.tree_set.get(self.name)
        if tree is None or _is_empty_tree(tree.root):
            self.shared.tree_set[self.name] = self
            return
        if not _is_empty_tree(self.root):
            self.errorf(f"template: multiple definition of template {go_quote(self.name)}")

    def parse(self, root: _Node | None = None) -> None:
        self.root = root if root is not None else _Node("list", self.peek().pos)
        while self.peek().typ != EOF:
            if self.peek().typ == LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == DEFINE:
                    self.sub_tree("definition").parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if node.kind in ("end", "else"):
                self.errorf(f"unexpected {node}")
            else:
                self.root.children.append(node)

    def parse_definition(self) -> None:
        context = "define clause"
        name = self.expect_one_of(STRING, RAW_STRING, context)
        try:
            self.name = _unquote(name.val)
        except _SyntaxError as error:
            self.errorf(str(error))
        self.expect(RIGHT_DELIM, context)
        self.root, end = self.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end} in {context}")
        self.add()

    def item_list(self) -> tuple[_Node, _Node]:
        self.deeper()
        items = _Node("list", self.peek_non_space().pos)
        while self.peek_non_space().typ != EOF:
            node = self.text_or_action()
            if node.kind in ("end", "else"):
                self.shared.depth -= 1
                return items, node
            items.children.append(node)
        self.errorf("unexpected EOF")

    def text_or_action(self) -> _Node:
        token = self.next_non_space()
        if token.typ == TEXT:
            return _Node("text", token.pos, token.val)
        if token.typ == LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action(token.pos)
            finally:
                self.action_line = 0
        self.unexpected(token, "input")

    def action(self, delim: int) -> _Node:
        token = self.next_non_space()
        typ = token.typ
        if typ == BLOCK:
            return self.block_control()
        if typ == BREAK:
            return self.break_control(token, "break")
        if typ == CONTINUE:
            return self.break_control(token, "continue")
        if typ == ELSE:
            return self.else_control()
        if typ == END:
            return _Node("end", self.expect(RIGHT_DELIM, "end").pos)
        if typ == IF:
            return self.parse_control(True, "if")
        if typ == RANGE:
            return self.parse_control(False, "range")
        if typ == TEMPLATE:
            return self.template_control()
        if typ == WITH:
            return self.parse_control(False, "with")
        self.backup()
        token = self.peek()
        before = len(self.shared.references)
        pipe = self.pipeline("command", RIGHT_DELIM)
        offset = self.shared.offset
        references = tuple(self.shared.references[before:])
        self.shared.actions.append(Action(delim - offset, pipe.end - offset, references, _shown(pipe, references)))
        return _Node("action", token.pos, children=[pipe])

    def break_control(self, token: _Item, word: str) -> _Node:
        following = self.next_non_space()
        if following.typ != RIGHT_DELIM:
            self.unexpected(following, "{{" + word + "}}")
        if self.range_depth == 0:
            self.errorf("{{" + word + "}} outside {{range}}")
        return _Node(word, token.pos)

    def pipeline(self, context: str, end: int) -> _Node:
        token = self.peek_non_space()
        pipe = _Node("pipe", token.pos)
        declarations = 0
        while True:  # declarations
            variable = self.peek_non_space()
            if variable.typ == VARIABLE:
                self.next()
                after = self.peek()
                following = self.peek_non_space()
                if following.typ in (ASSIGN, DECLARE):
                    self.next_non_space()
                    declarations += 1
                    self.vars.append(variable.val)
                elif following.typ == CHAR and following.val == ",":
                    self.next_non_space()
                    declarations += 1
                    self.vars.append(variable.val)
                    if context == "range" and declarations < 2:
                        if self.peek_non_space().typ in (VARIABLE, RIGHT_DELIM, RIGHT_PAREN):
                            continue  # a second variable in a range pipeline
                        self.errorf("range can only initialize variables")
                    self.errorf(f"too many declarations in {context}")
                elif after.typ == SPACE:
                    self.backup3(variable, after)
                else:
                    self.backup2(variable)
            break
        pipe.text = "declares" if declarations else ""
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self.check_pipeline(pipe, context)
                pipe.end = token.pos + len(token.val)
                return pipe
            if token.typ in _OPERAND_START:
                self.backup()
                pipe.children.append(self.command())
            else:
                self.unexpected(token, context)

    def check_pipeline(self, pipe: _Node, context: str) -> None:
        if not pipe.children:
            self.errorf(f"missing value for {context}")
        for stage, command in enumerate(pipe.children[1:], start=2):
            if command.children[0].kind in _NOT_EXECUTABLE:
                self.errorf(f"non executable command in pipeline stage {stage}")

    def parse_control(self, allow_else_if: bool, context: str) -> _Node:
        depth = len(self.vars)
        try:
            pipe = self.pipeline(context, RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, following = self.item_list()
            if context == "range":
                self.range_depth -= 1
            node = _Node(context, pipe.pos, children=[pipe, body])
            if following.kind == "else":
                if allow_else_if and self.peek().typ == IF:
                    self.next()
                    node.children.append(_Node("list", following.pos, children=[self.parse_control(True, "if")]))
                elif self.shared.dialect.else_with and context == "with" and self.peek().typ == WITH:
                    self.next()
                    node.children.append(_Node("list", following.pos,
                                               children=[self.parse_control(False, "with")]))
                else:
                    else_list, following = self.item_list()
                    if following.kind != "end":
                        self.errorf(f"expected end; found {following}")
                    node.children.append(else_list)
            return node
        finally:
            del self.vars[depth:]

    def else_control(self) -> _Node:
        peek = self.peek_non_space()
        if peek.typ == IF or peek.typ == WITH and self.shared.dialect.else_with:
            return _Node("else", peek.pos)  # "{{else if ..." is read as "{{else}}{{if ..."
        token = self.expect(RIGHT_DELIM, "else")
        return _Node("else", token.pos)

    def block_control(self) -> _Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, RIGHT_DELIM)
        block = self.sub_tree(name)
        block.root, end = block.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end} in {context}")
        block.add()
        return _Node("template", token.pos, name, [pipe])

    def template_control(self) -> _Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        children = []
        if self.next_non_space().typ != RIGHT_DELIM:
            self.backup()
            children.append(self.pipeline(context, RIGHT_DELIM))
        return _Node("template", token.pos, name, children)

    def template_name(self, token: _Item, context: str) -> str:
        if token.typ in (STRING, RAW_STRING):
            try:
                return _unquote(token.val)
            except _SyntaxError as error:
                self.errorf(str(error))
        self.unexpected(token, context)

    def command(self) -> _Node:
        command = _Node("command", self.peek_non_space().pos)
        while True:
            self.peek_non_space()  # skip leading spaces
            operand = self.operand()
            if operand is not None:
                command.children.append(operand)
            token = self.next()
            if token.typ == SPACE:
                continue
            if token.typ in (RIGHT_DELIM, RIGHT_PAREN):
                self.backup()
            elif token.typ != PIPE:
                self.unexpected(token, "operand")
            break
        if not command.children:
            self.errorf("empty command")
        return command

    def operand(self) -> _Node | None:
        node = self.term()
        if node is None:
            return None
        fields: list[str] = []
        end = node.end
        if self.peek().typ == FIELD:
            first = self.peek().pos
            while self.peek().typ == FIELD:
                field_token = self.next()
                fields.append(field_token.val[1:])
                end = field_token.pos + len(field_token.val)
            if node.kind in ("bool", "string", "number", "nil", "dot"):
                self.errorf(f"unexpected . after term {go_quote(str(node))}", first)
            if node.kind not in ("field", "variable"):
                node = _Node("chain", node.pos, children=[node])
        if node.kind in ("variable", "field"):
            variable, *own = node.text.split(".") if node.kind == "variable" else [".", *node.text[1:].split(".")]
            offset = self.shared.offset
            node.end = end
            self.shared.references.append(Reference(variable, (*own, *fields), node.pos - offset, end - offset))
            node.text = ".".join([node.text, *fields])
        return node

    def term(self) -> _Node | None:
        token = self.next_non_space()
        typ = token.typ
        end = token.pos + len(token.val)
        if typ == IDENTIFIER:
            if token.val not in self.functions:
                self.errorf(f"function {go_quote(token.val)} not defined", token.pos)
            return _Node("identifier", token.pos, token.val, end=end)
        if typ == DOT:
            return _Node("dot", token.pos, ".", end=end)
        if typ == NIL:
            return _Node("nil", token.pos, "nil", end=end)
        if typ == VARIABLE:
            if token.val not in self.vars:
                self.errorf(f"undefined variable {go_quote(token.val)}", token.pos)
            return _Node("variable", token.pos, token.val, end=end)
        if typ == FIELD:
            return _Node("field", token.pos, token.val, end=end)
        if typ == BOOL:
            return _Node("bool", token.pos, token.val, end=end)
        if typ in (CHAR_CONSTANT, COMPLEX, NUMBER):
            problem = _number_error(token.val, typ)
            if problem is not None:
                self.errorf(problem, token.pos)
            return _Node("number", token.pos, token.val, end=end)
        if typ == LEFT_PAREN:
            self.deeper()
            pipe = self.pipeline("parenthesized pipeline", RIGHT_PAREN)
            self.shared.depth -= 1
            return pipe
        if typ in (STRING, RAW_STRING):
            try:
                _unquote(token.val)
            except _SyntaxError as error:
                self.errorf(str(error), token.pos)
            return _Node("string", token.pos, token.val, end=end)
        self.backup()
        return None


def _shown(pipe: _Node, references: tuple[Reference, ...]) -> Reference | None:
    """The one reference a simple printing action shows: no declaration, exactly one reference, and
    besides it only functions and literals (`{{ $value | humanize }}`, `{{ printf "%.1f" $value }}`)."""
    if pipe.text or len(references) != 1:
        return None
    for command in pipe.children:
        for argument in command.children:
            if argument.kind not in ("variable", "field", "identifier", "string", "number", "bool"):
                return None
    return references[0]
