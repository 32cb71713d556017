"""YAML with positions, bounded: every key and item can be traced back to its line and column.

Sources are untrusted, so loading is bounded in file size, nesting depth and the number of
values that aliases may expand to (no "billion laughs"). Whatever goes wrong, the answer is a
`Diagnostic` with a position, never a traceback.

The document is composed once by libyaml when it is present (PyYAML's C parser), then turned into
plain Python values by a walk that keeps mapping keys as strings (so `on:` stays `"on"`, as GitHub
reads it), keeps timestamps as the strings they were written as, and refuses duplicate keys.
Positions are not stored for every value: the composed node tree is kept, and `Document.position`
walks it along a path only when a diagnostic needs one. The keys of each mapping on such a path are
indexed the first time one of them is looked up (`Document._keys`), so that a path costs its depth,
however many keys its mappings have: 50,000 unknown keys, each with its diagnostic, are not 50,000
searches of 50,000 keys.
"""

from __future__ import annotations

import errno
import gc
import json
import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Code, Diagnostic, Severity, make

try:  # libyaml's parser is ten times faster; the pure-Python one gives the same nodes.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

__all__ = ["Document", "Limits", "load_yaml_file", "load_yaml_text", "not_regular"]

OB001 = Code("OB001", Severity.ERROR, "YAML syntax error",
         "The file is not valid YAML, so nothing in it could be read. The message is the parser's; the "
         "position is where the parser gave up, which is often just after the real mistake. Tabs are not "
         "allowed for indentation in YAML.",
         failing="# runbooks/restart-api.yaml\n"
                 "title: Restart the API\n"
                 "steps:\n"
                 "\t- name: Restart   # indented with a tab\n"
                 "\t  run: systemctl restart api\n",
         passing="# runbooks/restart-api.yaml\n"
                 "title: Restart the API\n"
                 "steps:\n"
                 "  - name: Restart\n"
                 "    run: systemctl restart api\n")
OB002 = Code("OB002", Severity.ERROR, "File is not valid UTF-8 text",
         "Sources must be UTF-8 text. The position is that of the first byte that is not valid UTF-8; "
         "binary files do not belong in a source folder.",
         failing="# runbooks/restart-api.yaml, saved in latin-1\n"
                 "title: Redémarrer l'API\n"
                 "steps: [{name: Redémarrer, run: systemctl restart api}]\n",
         passing="# runbooks/restart-api.yaml, saved in utf-8\n"
                 "title: Redémarrer l'API\n"
                 "steps: [{name: Redémarrer, run: systemctl restart api}]\n")
OB003 = Code("OB003", Severity.ERROR, "File too large",
         "The file is larger than the configured `max_file_size` (5 MiB by default) and was not read. "
         "Split it, or raise the limit in the plugin's configuration if the file is legitimate.")
OB004 = Code("OB004", Severity.ERROR, "Duplicate key",
         "A mapping names the same key twice. YAML parsers disagree on which value wins, so opsbook "
         "refuses to guess: the first value is kept and the repeat is reported.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "title: Restore the orders database\n"
                 "title: Restore the orders replica\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "title: Restore the orders database\n")
OB005 = Code("OB005", Severity.ERROR, "Document exceeds a safety limit",
         "The document nests deeper than `max_depth`, expands through aliases to more values than "
         "`max_nodes`, or has an alias that refers to itself. Such documents are refused unread: a small "
         "file of aliases can expand to billions of values (\"billion laughs\").",
         failing="# runbooks/restart-api.yaml\n"
                 "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                 "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                 "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                 "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                 "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                 "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                 "g: [*f, *f, *f]   # 3 million values, over max_nodes\n",
         passing="# runbooks/restart-api.yaml\n"
                 "title: Restart the API\n"
                 "x-step: &restart {name: Restart, run: systemctl restart api}\n"
                 "steps: [*restart]\n")

OB007 = Code("OB007", Severity.ERROR, "Unsupported YAML",
         "The file uses a YAML feature that no source format of opsbook needs, such as a list or a "
         "mapping used as a mapping key (`? [a, b]`). Write keys as plain text.",
         failing="# runbooks/restart-api.yaml\n"
                 "title: Restart the API\n"
                 "steps: [{name: Restart, run: systemctl restart api}]\n"
                 "? [owner, team]\n"
                 ": team-data\n",
         passing="# runbooks/restart-api.yaml\n"
                 "title: Restart the API\n"
                 "steps: [{name: Restart, run: systemctl restart api}]\n"
                 "owner: team-data\n")
OB008 = Code("OB008", Severity.ERROR, "Not a regular file",
         "A source, or a file of the docs folder, is not a regular file: a named pipe (FIFO), a socket or a "
         "device, or a symbolic link that loops (`a.yaml` → `b.yaml` → `a.yaml`). opsbook reads only regular "
         "files: reading a pipe waits for a writer that never comes, and a device never ends. Such a file has "
         "no place in a repository; remove it, or replace it with the file it should be.")


@dataclass(frozen=True)
class Limits:
    """Bounds applied to every source file."""

    max_file_size: int = 5 * 1024 * 1024
    max_depth: int = 100
    max_nodes: int = 2_000_000


PathKey = tuple[str | int, ...]


@dataclass
class Document:
    """One YAML document: its values and the means to find where any of them was written."""

    path: str
    data: Any
    composed: yaml.Node | None
    text: str = field(repr=False, default="")
    index: int = 0
    #: A document read as JSON has no node tree until a position is asked for: then it is composed.
    lazy: bool = field(repr=False, default=False)
    #: The keys of each mapping node looked into, by the node's id: key → (key node, value node).
    _indexes: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = field(repr=False, default_factory=dict,
                                                                        compare=False)
    #: Where each line of `text` starts, computed the first time a position inside a value needs it.
    _line_starts: list[int] | None = field(repr=False, default=None, compare=False)

    @property
    def node(self) -> yaml.Node | None:
        if self.lazy:
            self.lazy = False
            try:
                loader = _Loader(self.text)
                try:
                    self.composed = loader.get_single_node()
                finally:
                    loader.dispose()
            except yaml.YAMLError:
                self.composed = None
        return self.composed

    def position(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """The 1-based (line, column) of the value at `path`, or of its key with `key=True`.

        A path that goes further than the document falls back to the deepest part that exists.
        """
        node = self.node
        if node is None:
            return (1, 1)
        best = node.start_mark
        for part in path:
            found: tuple[yaml.Node | None, yaml.Node] | None = None
            if isinstance(node, yaml.MappingNode):
                found = self._keys(node).get(part) if isinstance(part, str) else None
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                found = (None, node.value[part])
            if found is None:
                break
            found_key, node = found
            best = found_key.start_mark if (key and found_key is not None and part == path[-1]) else node.start_mark
        return (best.line + 1, best.column + 1)

    def node_at(self, path: Sequence[str | int]) -> yaml.Node | None:
        """The composed node at `path`, or None when the path goes further than the document."""
        node = self.node
        for part in path:
            if isinstance(node, yaml.MappingNode):
                pair = self._keys(node).get(part) if isinstance(part, str) else None
                node = pair[1] if pair is not None else None
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return None
            if node is None:
                return None
        return node

    def _keys(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The text keys of a mapping node, each with its first pair (merged keys after its own), indexed
        once per node: a lookup is then one step, however many keys the mapping has."""
        index = self._indexes.get(id(node))
        if index is None:
            index = {}
            for key_node, value_node in _mapping_pairs(node):
                if isinstance(key_node, yaml.ScalarNode):
                    index.setdefault(key_node.value, (key_node, value_node))
            self._indexes[id(node)] = index
        return index

    def position_of_text(self, path: Sequence[str | int], value: str, needle: str) -> tuple[int, int]:
        """Where `needle` first stands in `value`, the text of the scalar at `path` (a script's name in a
        command); the value's own position when it is not found."""
        for number, line in enumerate(value.splitlines(), start=1):
            column = line.find(needle)
            if column >= 0:
                return self.position_in_value(path, number, column + 1)
        return self.position(path)

    def position_in_value(self, path: Sequence[str | int], line: int, column: int) -> tuple[int, int]:
        """Where the 1-based `line` and `column` of the text of the scalar at `path` stand in the file.

        Exact for plain one-line values and literal blocks (`|`), and for quoted values on one line (an
        escape such as `\\n` or a doubled `''` stands for one character); for values folded over several
        lines, the place found by walking the value's text and its source together.
        """
        node = self.node_at(path)
        if node is None:
            return self.position(path)
        mark = node.start_mark
        style = getattr(node, "style", None)
        if style == "|":
            lines = self.text.splitlines()
            first = lines[mark.line + 1] if mark.line + 1 < len(lines) else ""
            indent = len(first) - len(first.lstrip(" "))
            return (mark.line + 1 + line, indent + column)
        if not style and line == 1:
            return (mark.line + 1, mark.column + column)
        if not isinstance(node, yaml.ScalarNode) or not isinstance(node.value, str):
            return (mark.line + 1, mark.column + 1)
        return self._walk_scalar(node, line, column)

    def _line_start(self, line: int) -> int:
        """The offset in `text` of the 0-based `line` as YAML counts lines (\\r\\n, \\r, \\n, NEL, LS, PS)."""
        if self._line_starts is None:
            self._line_starts = [0, *(found.end() for found in _YAML_BREAK.finditer(self.text))]
        return self._line_starts[min(line, len(self._line_starts) - 1)]

    def _walk_scalar(self, node: yaml.ScalarNode, line: int, column: int) -> tuple[int, int]:
        """Walk a quoted or folded scalar's source and its value together up to the value's `line` and
        `column`: an escape or a doubled quote is one character of the value, a line break and the
        indentation after it are the space or the newline they fold into, and any other source character
        that the value does not have is passed over. Bounded by the scalar's length."""
        value: str = node.value
        offset = 0
        for _ in range(line - 1):
            found = value.find("\n", offset)
            if found < 0:
                break
            offset = found + 1
        offset = min(offset + column - 1, len(value))
        mark, end_mark = node.start_mark, node.end_mark
        start = self._line_start(mark.line) + mark.column
        end = self._line_start(end_mark.line) + end_mark.column
        source = self.text
        style = node.style
        j = start
        if style in ("'", '"'):
            j += 1
        elif style == ">":
            j = source.find("\n", j, end) + 1 or end
        for char in value[:offset]:
            while style == '"' and source.startswith(("\\\n", "\\\r"), j):  # an escaped line break: nothing
                j += 3 if source.startswith("\\\r\n", j) else 2
                while j < end and source[j] in " \t":
                    j += 1
            if j >= end:
                break
            if source[j] in "\r\n":  # a line break, folded into a space or kept as a newline
                j += 2 if source.startswith("\r\n", j) else 1
                while j < end and source[j] in " \t":
                    j += 1
                if char in " \n":
                    continue
            if j >= end:
                break
            if style == '"' and source[j] == "\\":
                j += 2 + {"x": 2, "u": 4, "U": 8}.get(source[j + 1:j + 2], 0)
            elif style == "'" and source.startswith("''", j):
                j += 2
            elif source[j] == char:
                j += 1
            else:
                found = source.find(char, j, end)
                j = found + 1 if found >= 0 else end
        if j < end and source[j] in "\r\n" and value[offset:offset + 1] not in ("", " ", "\n"):
            j += 2 if source.startswith("\r\n", j) else 1  # the character starts the next line of the source
            while j < end and source[j] in " \t":
                j += 1
        j = min(j, end)
        line_number = mark.line + sum(1 for _ in _YAML_BREAK.finditer(source, start, j))
        return (line_number + 1, j - self._line_start(line_number) + 1)


_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _mapping_pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """Key/value pairs of a mapping, merged mappings (`<<: *base`) after its own."""
    merges = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merges.append(value_node)
        else:
            yield key_node, value_node
    for merge in merges:
        sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                yield from _mapping_pairs(source)


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


_constructor = yaml.constructor.SafeConstructor()
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null": _constructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
}


class _Builder:
    """Turns composed nodes into plain values, within the limits."""

    def __init__(self, path: str, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.count = 0
        self.active: set[int] = set()
        self.diagnostics: list[Diagnostic] = []

    def refuse(self, node: yaml.Node, message: str) -> _Refused:
        mark = node.start_mark
        return _Refused(make(OB005, self.path, mark.line + 1, mark.column + 1, message))

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise self.refuse(node, f"the document expands to more than {self.limits.max_nodes:,} values "
                                    "(aliases repeated inside aliases?)")
        if depth > self.limits.max_depth:
            raise self.refuse(node, f"the document nests deeper than {self.limits.max_depth} levels")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise self.refuse(node, "an alias refers to a value that contains it")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, depth + 1) for item in node.value]
            result: dict[str, Any] = {}
            first_at: dict[str, yaml.Node] = {}
            own = {id(key_node) for key_node, _ in node.value}
            assert isinstance(node, yaml.MappingNode)
            for key_node, value_node in _mapping_pairs(node):
                self.count += 1  # merged keys too: merges of merges can multiply them
                if self.count > self.limits.max_nodes:
                    raise self.refuse(node, f"the document expands to more than {self.limits.max_nodes:,} values "
                                            "(merge keys repeated inside merges?)")
                key = self.key(key_node)
                if key in result:
                    if id(key_node) in own and key in first_at:  # merged keys only fill gaps
                        mark, first = key_node.start_mark, first_at[key].start_mark
                        self.diagnostics.append(make(OB004, self.path, mark.line + 1, mark.column + 1,
                            f"duplicate key '{key}' (first written at line {first.line + 1}); "
                            "the first value is kept"))
                    continue
                if id(key_node) in own:
                    first_at[key] = key_node
                result[key] = self.build(value_node, depth + 1)
            return result
        finally:
            self.active.discard(id(node))

    def key(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        mark = node.start_mark
        raise _Refused(make(OB007, self.path, mark.line + 1, mark.column + 1,
                            "a mapping key must be plain text, not a list or a mapping"))

    @staticmethod
    def scalar(node: yaml.ScalarNode) -> Any:
        construct = _SCALAR_TAGS.get(node.tag)
        if construct is None:
            return node.value  # strings, timestamps (kept as written) and unknown tags
        try:
            value = construct(node)
        except (ValueError, OverflowError):  # e.g. an integer of 100,000 digits
            return node.value
        if isinstance(value, float) and math.isnan(value):
            return node.value
        return value


_TAB_HINT = "YAML does not allow tabs for indentation; indent with spaces."


def _syntax_diagnostic(path: str, error: yaml.YAMLError, text: str) -> Diagnostic:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None and context_mark is not mark:
        context = f"{context} (started at line {context_mark.line + 1}, column {context_mark.column + 1})"
    message = re.sub(r"\s+", " ", f"{context}: {problem}" if context else str(problem)).strip()
    lines = text.splitlines()
    near = lines[max(0, line - 2): line]
    hint = _TAB_HINT if any(re.match(r"[ ]*\t", candidate) for candidate in near) else None
    return make(OB001, path, line, column, message, hint)


def decode(path: str, raw: bytes) -> tuple[str | None, Diagnostic | None]:
    """Decode UTF-8 (a leading byte-order mark is allowed); an invalid byte is a diagnostic at its position."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        return None, make(OB002, path, line, column,
                          f"byte 0x{raw[error.start]:02x} is not valid UTF-8 (offset {error.start})")
    return text, None


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey("a repeated key: the YAML path reports where")
    return result


class _DuplicateKey(ValueError):
    pass


def _load_json(path: str, text: str) -> Document | None:
    """A source written as JSON (as generated ones often are), read by the C JSON parser; None when it
    is not plain JSON, or holds anything the YAML path must report (a duplicate key)."""
    try:
        data = json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    return Document(path, data, None, text, 0, lazy=True)


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON, nor YAML's way of writing them


def load_yaml_text(path: str, text: str, limits: Limits | None = None) -> tuple[list[Document], list[Diagnostic]]:
    """Parse every document in `text`; return the documents and the problems found."""
    limits = limits or Limits()
    if text.lstrip()[:1] in ("{", "["):
        fast = _load_json(path, text)
        if fast is not None and (not isinstance(fast.data, (dict, list)) or _within(fast.data, limits)):
            return [fast], []
    documents: list[Document] = []
    builder = _Builder(path, limits)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # composing allocates many small objects and no cycles; GC passes triple the time
    try:
        loader = _Loader(text)
        try:
            index = 0
            while loader.check_node():
                node = loader.get_node()
                data = builder.build(node) if node is not None else None
                documents.append(Document(path, data, node, text, index))
                index += 1
        finally:
            loader.dispose()
    except _Refused as refused:
        return [], [*builder.diagnostics, refused.diagnostic]
    except yaml.YAMLError as error:
        return [], [*builder.diagnostics, _syntax_diagnostic(path, error, text)]
    except RecursionError:
        return [], [make(OB005, path, 1, 1, "the document nests too deeply to be read")]
    finally:
        if gc_was_enabled:
            gc.enable()
    return documents, builder.diagnostics


def _within(data: Any, limits: Limits) -> bool:
    """Whether JSON data keeps to the depth and size limits (JSON has no aliases to expand).

    Walked one level at a time, so that no depth is stored per value."""
    count, depth, level = 1, 0, [data] if isinstance(data, (dict, list)) else []
    while level:
        if depth > limits.max_depth:
            return False
        below: list[Any] = []
        for value in level:
            items = value.values() if isinstance(value, dict) else value
            count += len(items)
            below += [item for item in items if isinstance(item, (dict, list))]
        if count > limits.max_nodes:
            return False
        level, depth = below, depth + 1
    return True


_FILE_TYPES = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))


def not_regular(file: Path | str) -> str | None:
    """Why `file` must not be opened, as the end of a sentence that starts with its name ("is a named pipe
    (FIFO), not a regular file"), or None for a regular file, links followed (and for a file that does not
    exist: reading it reports that). Only its status is read: the file is never opened."""
    try:
        mode = os.stat(file).st_mode
    except OSError as error:
        return "is a symbolic link that loops" if error.errno == errno.ELOOP else None
    if stat.S_ISREG(mode):
        return None
    what = next((name for test, name in _FILE_TYPES if test(mode)), "a special file")
    return f"is {what}, not a regular file"


def load_yaml_file(file: Path, relpath: str, limits: Limits | None = None) -> tuple[list[Document], list[Diagnostic]]:
    """Read and parse a file, within the limits. Only a regular file is opened: a named pipe would wait for
    a writer forever."""
    limits = limits or Limits()
    why = not_regular(file)
    if why is not None:
        return [], [make(OB008, relpath, 0, 0, f"'{relpath}' {why}; it was not read")]
    try:
        size = file.stat().st_size
        if size > limits.max_file_size:
            return [], [make(OB003, relpath, 1, 1,
                             f"the file is {size:,} bytes, over the limit of {limits.max_file_size:,}")]
        with file.open("rb") as handle:
            raw = handle.read(limits.max_file_size + 1)
    except OSError as error:
        return [], [make(OB003, relpath, 1, 1, f"the file could not be read: {error.strerror or error}")]
    if len(raw) > limits.max_file_size:  # it grew while we looked, or it is not a regular file
        return [], [make(OB003, relpath, 1, 1, f"the file is over the limit of {limits.max_file_size:,} bytes")]
    text, problem = decode(relpath, raw)
    if problem is not None or text is None:
        return [], [problem] if problem else []
    return load_yaml_text(relpath, text, limits)
