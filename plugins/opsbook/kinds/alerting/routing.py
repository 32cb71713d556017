"""Alertmanager routing, exactly as Alertmanager decides it: matchers, the route tree, receivers.

Label matchers are read in every syntax Alertmanager's configuration accepts: `match` (equality),
`match_re` (anchored regular expressions), and `matchers` strings (`a="b"`, `a!=b`, `a=~"re"`,
`a!~re`, several per string separated by commas, optionally in braces). Routing follows
Alertmanager's `Route.Match`: a route that matches tries its children in order; a matching child
without `continue` stops the search; a route none of whose children matched is itself the match.

What a route passes to its children follows Alertmanager's `dispatch/route.go` (`NewRoute`, 0.25): the
receiver, `group_by` and the timings `group_wait`, `group_interval` and `repeat_interval` are inherited
unless the route sets them, from `DefaultRouteOpts` at the root (30s, 5m, 4h, no grouping labels);
`group_by: ['...']` groups by all labels; `mute_time_intervals` and `active_time_intervals` are not
inherited. How `group_by` and the timings are checked is `config/config.go`'s `Route.UnmarshalYAML`.

Every field Alertmanager reads into a Go string (receiver names, `match` and `match_re` values,
`matchers`, `group_by`, the timings, the names of time intervals; `source_match`, `target_match` and
`equal` of inhibition rules) is the scalar as written: Go's yaml.v2 hands a string field the text, where
PyYAML (YAML 1.1) has already turned `1.10`, `yes`, `on`, `0x1F`, `017`, `1_000` and `12:30` into numbers
and booleans. So `build_tree` and `read_matchers` take `text`, the scalar at a path as written in the
document (`alertmanager.as_written`); without it (a configuration given as plain values) PyYAML's value
is read back by `go_text`, which cannot tell `1.10` from `1.1`. `continue`, Go's bool, is read as yaml.v2
reads a bool: `y` and `n` too, which PyYAML leaves as text, and nothing that is not a boolean.
Where Alertmanager's current main branch differs from 0.25 (Debian's), `build_tree(version="main")`
follows main: an empty `group_by: []` groups everything together there (alertmanager#4825), while
0.25 reads it as absent and inherits the parent's.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

__all__ = ["Matcher", "MatcherError", "Route", "RoutingTree", "parse_matcher", "parse_matchers", "parse_labels",
           "build_tree", "integrations_of", "read_matchers", "parse_go_duration", "go_text", "scalar_text",
           "TextAt", "VERSIONS", "GROUP_WAIT", "GROUP_INTERVAL", "REPEAT_INTERVAL"]

#: The text of the YAML scalar at a path of the document, as written, or None when there is none to give.
TextAt = Callable[[tuple[str | int, ...]], str | None]

#: The Alertmanager versions whose behaviour can be asked for where they differ: Debian's 0.25 (the
#: default, the one the tests run) and the current main branch.
VERSIONS = ("0.25", "main")
#: `DefaultRouteOpts` of `dispatch/route.go`: the timings of a root route that sets none.
GROUP_WAIT = _dt.timedelta(seconds=30)
GROUP_INTERVAL = _dt.timedelta(minutes=5)
REPEAT_INTERVAL = _dt.timedelta(hours=4)
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
# prometheus/common's model.ParseDuration: each unit at most once, largest first (or a bare "0").
_GO_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?\Z")
_DURATION_UNITS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)

# Alertmanager's own pattern (pkg/labels). Go's `\s` is ASCII `[\t\n\f\r ]` only (not `\v`, not Unicode
# spaces, which Python's `\s` would strip), and `\Z`: Python's `$` also matches before a final newline.
_MATCHER = re.compile(r"^[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*(.*?)"
                      r"[\t\n\f\r ]*\Z", re.S)
MAX_REGEX_LENGTH = 4096
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is reported as a diagnostic; RE2's own log line on stderr is noise


class MatcherError(ValueError):
    """A matcher that Alertmanager would refuse."""


@dataclass(frozen=True)
class Matcher:
    """One label matcher: `name op value`."""

    name: str
    op: str
    value: str
    pattern: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: str, value: str) -> Matcher:
        pattern = None
        if op in ("=~", "!~"):
            if len(value) > MAX_REGEX_LENGTH:
                raise MatcherError(f"regular expression for {name} is longer than {MAX_REGEX_LENGTH} characters")
            try:
                # RE2, the engine Alertmanager (Go) uses: the same syntax, and linear time whatever the
                # pattern, so a hostile `=~` cannot stall a check.
                pattern = re2.compile(f"(?:{value})", _RE2_OPTIONS)
            except re2.error as error:
                reason = error.args[0] if error.args else error
                reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
                raise MatcherError(f"invalid regular expression {value!r} for {name}: {reason}") from None
        return cls(name, op, value, pattern)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def parse_matcher(text: str) -> Matcher:
    """One matcher in Alertmanager's syntax, unescaping a quoted value as Alertmanager does."""
    found = _MATCHER.match(text)
    if not found:
        raise MatcherError(f"bad matcher format: {text}")
    name, op, raw = found.groups()
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    if any("\ud800" <= char <= "\udfff" for char in raw):  # undecodable bytes of a command-line argument
        raise MatcherError(f"matcher value not valid UTF-8: {found.group(3)}")
    value: list[str] = []
    escaped = False
    for index, char in enumerate(raw):
        if escaped:
            escaped = False
            if char == "n":
                value.append("\n")
            elif char in '"\\':
                value.append(char)
            else:
                value.append("\\" + char)  # a spurious escape keeps its backslash
            continue
        if char == "\\":
            if index < len(raw) - 1:
                escaped = True
                continue
            value.append("\\")
        elif char == '"':
            if not quoted or index < len(raw) - 1:
                raise MatcherError(f"matcher value contains unescaped double quote: {found.group(3)}")
            quoted = False
        else:
            value.append(char)
    if quoted:
        raise MatcherError(f"matcher value contains unescaped double quote: {found.group(3)}")
    return Matcher.make(name, op, "".join(value))


def parse_matchers(text: str) -> list[Matcher]:
    """Several matchers in one string, separated by commas outside quotes, optionally in braces."""
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside = escaped = False
    for char in text:
        if char == "," and not inside:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if not escaped:
                inside = not inside
            else:
                escaped = False
        elif char == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(char)
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    return [parse_matcher(item) for item in tokens]


def parse_labels(arguments: Iterable[str]) -> dict[str, str]:
    """A label set written as `amtool config routes test` (0.25) reads its arguments (`parseLabels`):
    each argument is one matcher (`parse_matcher`: spaces around the name and the value, an optional
    quoted value with `\\n`, `\\"` and `\\\\` escapes, `:` in names), which must be `=`; a name given
    twice keeps its last value, and no argument at all is the empty set. Raises `MatcherError` with
    amtool's reason."""
    labels: dict[str, str] = {}
    for argument in arguments:
        matcher = parse_matcher(argument)  # first, as amtool: `a=~"("` is refused for its expression
        if matcher.op != "=":
            raise MatcherError("labels must be specified as key=value pairs")
        labels[matcher.name] = matcher.value
    return labels


@dataclass(eq=False)
class Route:
    """A node of the routing tree, with the options it inherits from its parents. A node is equal only to
    itself (and hashable), as Alertmanager keys its aggregation groups by the route itself."""

    receiver: str
    matchers: list[Matcher]
    continue_: bool
    #: The labels notifications are grouped by, inherited; `["..."]` when grouped by all labels.
    group_by: list[str]
    path: tuple[str | int, ...]
    children: list[Route] = field(default_factory=list)
    parent: Route | None = None
    mute_time_intervals: list[str] = field(default_factory=list)
    active_time_intervals: list[str] = field(default_factory=list)
    #: A route with a matcher Alertmanager would refuse matches nothing (Alertmanager would not load it).
    invalid: bool = False
    #: `group_by: ['...']` here or inherited: every alert's whole label set is its group.
    group_by_all: bool = False
    group_wait: _dt.timedelta = GROUP_WAIT
    group_interval: _dt.timedelta = GROUP_INTERVAL
    repeat_interval: _dt.timedelta = REPEAT_INTERVAL

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels of an alert that name its aggregation group on this route (`getGroupLabels` of
        `dispatch/dispatch.go`): those of `group_by` the alert has, or all of them."""
        if self.group_by_all:
            return dict(labels)
        return {name: value for name, value in labels.items() if name in self.group_by}

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        if self.invalid or not all(matcher.matches(labels) for matcher in self.matchers):
            return []
        found: list[Route] = []
        for child in self.children:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]

    def lineage(self) -> list[Route]:
        """The routes from the root down to this one."""
        chain: list[Route] = []
        node: Route | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def walk(self) -> Iterator[Route]:
        yield self
        for child in self.children:
            yield from child.walk()

    def describe(self) -> str:
        if self.parent is None:
            return "root"
        return "{" + ", ".join(str(m) for m in self.matchers) + "}"


@dataclass
class RoutingTree:
    """The routing of one Alertmanager configuration."""

    root: Route
    receivers: dict[str, dict[str, Any]]
    _names: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _routed: dict[tuple[str, ...], list[Route]] = field(default_factory=dict, init=False, repr=False,
                                                        compare=False)

    def routes_for(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes a label set reaches. Only the labels some matcher reads decide it (an absent label
        reads as empty), so label sets that agree on those share one walk of the tree."""
        if self._names is None:
            self._names = tuple(sorted({m.name for route in self.root.walk() for m in route.matchers}))
        key = tuple(labels.get(name, "") for name in self._names)
        routes = self._routed.get(key)
        if routes is None:
            routes = self.root.match(labels)
            if len(self._routed) < 100_000:  # bounded: a hostile set of label values cannot grow it forever
                self._routed[key] = routes
        return list(routes)

    def receivers_for(self, labels: Mapping[str, str]) -> list[str]:
        """Receivers in the order Alertmanager notifies them (repeats kept, as `amtool` prints them)."""
        return [route.receiver for route in self.routes_for(labels)]


@dataclass
class RouteProblem:
    """A problem in a route, at the path of the offending key inside the configuration."""

    path: tuple[str | int, ...]
    message: str
    #: The problem is the key at `path` (an unknown field), not its value.
    key: bool = False


def go_text(value: Any) -> str:
    """A YAML scalar as Alertmanager's YAML library hands it to a Go string, when only PyYAML's value is
    at hand: null is empty, a boolean lower-case (what was written, `1.10` or `yes`, is in the document
    alone: `scalar_text`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def scalar_text(value: Any, path: tuple[str | int, ...], text: TextAt | None) -> str:
    """The string Alertmanager reads from the scalar `value` at `path`: as written when `text` gives it
    (`1.10`, `yes`, `0x1F`, `12:30`), null as empty, else `go_text(value)`."""
    if value is None:
        return ""
    written = text(path) if text is not None else None
    return go_text(value) if written is None else written


#: The plain scalars yaml.v2 (YAML 1.1) reads as booleans and PyYAML as text (PyYAML's other booleans it
#: reads as booleans; quoted, `"true"` is text to both, which a Go bool refuses).
_GO_BOOLS = {"y": True, "Y": True, "n": False, "N": False}


def _go_bool(value: Any, path: tuple[str | int, ...], key: str, problems: list[RouteProblem]) -> bool:
    """A Go bool field as yaml.v2 fills it: null is false, `y` and `n` are booleans (PyYAML leaves them as
    text; quoted, yaml.v2 would refuse them), anything else but a boolean is refused."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _GO_BOOLS:
        return _GO_BOOLS[value]
    shown = value if isinstance(value, (str, int, float)) else type(value).__name__
    problems.append(RouteProblem((*path, key), f"{key} must be true or false, not {shown}"))
    return False


def parse_go_duration(text: str) -> _dt.timedelta | None:
    """A duration as Alertmanager reads one (prometheus/common `model.ParseDuration`): `0`, or units
    `y w d h m s ms`, each at most once, largest first (`1h30m`); None when it is not one."""
    if text == "0":
        return _dt.timedelta(0)
    found = _GO_DURATION.match(text) if text and len(text) <= 64 else None
    if found is None:
        return None
    milliseconds = sum(int(part) * unit for part, unit in zip(found.groups(), _DURATION_UNITS, strict=True)
                       if part is not None)
    if milliseconds >= 2**63 // 1_000_000:  # Go's time.Duration (int64 nanoseconds) would overflow
        return None
    return _dt.timedelta(milliseconds=milliseconds)


def read_matchers(data: Mapping[str, Any], path: tuple[str | int, ...], keys: tuple[str, str, str],
                  problems: list[RouteProblem], text: TextAt | None = None) -> list[Matcher]:
    """The matchers of one mapping written in the three syntaxes, under the names `keys` gives them:
    equality (`match`, `source_match`), regular expressions (`match_re`) and matcher strings
    (`matchers`); each problem is added to `problems` at its path. `text` gives a scalar as written
    (`scalar_text`): `match: {v: 1.10}` is `v="1.10"`, as for Alertmanager."""
    matchers: list[Matcher] = []
    for kind, op in ((keys[0], "="), (keys[1], "=~")):
        value = data.get(kind)
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(RouteProblem((*path, kind), f"{kind} must be a mapping of label names to values"))
            continue
        for name, expected in value.items():
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", go_text(name)):
                problems.append(RouteProblem((*path, kind, name), f"invalid label name '{name}'"))
                continue
            if expected is None and op == "=~":  # `MatchRegexps.UnmarshalYAML`: a null pattern is refused
                problems.append(RouteProblem((*path, kind, name), f"invalid regexp value for '{name}'"))
                continue
            if isinstance(expected, (dict, list)):
                problems.append(RouteProblem((*path, kind, name), f"the value of {name} in {kind} must be text, "
                                             f"not a {'mapping' if isinstance(expected, dict) else 'list'}"))
                continue
            try:
                matchers.append(Matcher.make(go_text(name), op, scalar_text(expected, (*path, kind, name), text)))
            except MatcherError as error:
                problems.append(RouteProblem((*path, kind, name), str(error)))
    raw = data.get(keys[2])
    if raw is not None and not isinstance(raw, list):
        problems.append(RouteProblem((*path, keys[2]), f"{keys[2]} must be a list of strings"))
    for index, line in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(line, (dict, list)):
            problems.append(RouteProblem((*path, keys[2], index), f"{keys[2]} must be a list of strings"))
            continue
        try:
            matchers.extend(parse_matchers(scalar_text(line, (*path, keys[2], index), text)))
        except MatcherError as error:
            problems.append(RouteProblem((*path, keys[2], index), str(error)))
    return matchers


def _grouping(data: Mapping[str, Any], parent: Route | None, path: tuple[str | int, ...], version: str,
              problems: list[RouteProblem], text: TextAt | None) -> tuple[list[str], bool]:
    """`group_by` as `NewRoute` inherits it, checked as `Route.UnmarshalYAML` checks it."""
    inherited = (parent.group_by, parent.group_by_all) if parent else ([], False)
    raw = data.get("group_by")
    if raw is None:
        return inherited
    if not isinstance(raw, list):
        problems.append(RouteProblem((*path, "group_by"), "group_by must be a list of label names"))
        return inherited
    names: list[str] = []
    every = False
    for index, item in enumerate(raw):
        if isinstance(item, (dict, list)):
            problems.append(RouteProblem((*path, "group_by", index), "group_by must be a list of label names"))
            continue
        name = scalar_text(item, (*path, "group_by", index), text)
        if name == "...":
            every = True
        elif not _LABEL_NAME.match(name):
            problems.append(RouteProblem((*path, "group_by", index), f"invalid label name '{name}' in group_by list"))
        elif name in names:
            problems.append(RouteProblem((*path, "group_by", index), f"duplicated label '{name}' in group_by"))
        else:
            names.append(name)
    if every and names:
        problems.append(RouteProblem((*path, "group_by"),
                                     "cannot have wildcard group_by (`...`) and other labels at the same time"))
    if every:
        return ["..."], True
    if names or (version == "main" and not raw):
        return names, False
    return inherited  # 0.25: an empty list leaves group_by unset, so it is inherited


def _timing(data: Mapping[str, Any], key: str, inherited: _dt.timedelta, path: tuple[str | int, ...],
            problems: list[RouteProblem], text: TextAt | None) -> _dt.timedelta:
    raw = data.get(key)
    if raw is None:
        return inherited
    if isinstance(raw, (dict, list)):
        problems.append(RouteProblem((*path, key), f"{key} must be a duration such as 30s or 5m"))
        return inherited
    written = scalar_text(raw, (*path, key), text)
    value = parse_go_duration(written)
    if value is None:
        reason = "empty duration string" if not written else f"not a valid duration string: '{written}'"
        problems.append(RouteProblem((*path, key), f"{key}: {reason}"))
        return inherited
    if not value and key != "group_wait":
        problems.append(RouteProblem((*path, key), f"{key} cannot be zero"))
        return inherited
    return value


def _interval_names(data: Mapping[str, Any], key: str, path: tuple[str | int, ...], problems: list[RouteProblem],
                    text: TextAt | None) -> list[str]:
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list) or any(isinstance(item, (dict, list)) for item in raw):
        problems.append(RouteProblem((*path, key), f"{key} must be a list of time interval names"))
        return []
    return [scalar_text(item, (*path, key, index), text) for index, item in enumerate(raw)]


def build_tree(config: Mapping[str, Any], *, base: tuple[str | int, ...] = (), version: str = "0.25",
               text: TextAt | None = None) -> tuple[RoutingTree | None, list[RouteProblem]]:
    """The routing tree of an Alertmanager configuration, and the problems found while building it.
    `version` is the Alertmanager whose rules apply where versions differ (`VERSIONS`); `text`, when
    given, is the scalar at a path as written, read wherever Alertmanager reads a string (receiver
    names, matchers, `group_by`, timings, names of time intervals), which PyYAML may have read as a
    number or a boolean."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Alertmanager version {version!r}: one of {', '.join(VERSIONS)}")
    problems: list[RouteProblem] = []
    receivers: dict[str, dict[str, Any]] = {}
    declared = config.get("receivers")
    for index, receiver in enumerate(declared if isinstance(declared, list) else []):
        given = receiver.get("name") if isinstance(receiver, dict) else None
        name = "" if isinstance(given, (dict, list)) else scalar_text(given, (*base, "receivers", index, "name"), text)
        if not name:
            problems.append(RouteProblem((*base, "receivers", index), "a receiver needs a name"))
            continue
        if name in receivers:
            problems.append(RouteProblem((*base, "receivers", index, "name"), f"receiver '{name}' is defined twice"))
            continue
        assert isinstance(receiver, dict)
        receivers[name] = receiver
    root_data = config.get("route")
    if not isinstance(root_data, dict):
        problems.append(RouteProblem(base, "the configuration has no route"))
        return None, problems
    if not scalar_text(root_data.get("receiver"), (*base, "route", "receiver"), text):
        problems.append(RouteProblem((*base, "route"), "the root route needs a receiver"))

    def build(data: Any, parent: Route | None, path: tuple[str | int, ...], depth: int) -> Route | None:
        if not isinstance(data, dict):
            problems.append(RouteProblem(path, "a route must be a mapping"))
            return None
        if depth > 64:
            problems.append(RouteProblem(path, "routes nest deeper than 64 levels"))
            return None
        before = len(problems)
        matchers = read_matchers(data, path, ("match", "match_re", "matchers"), problems, text)
        named = data.get("receiver")
        if isinstance(named, (dict, list)):
            problems.append(RouteProblem((*path, "receiver"), "receiver must be the name of a receiver"))
            named = None
        name = scalar_text(named, (*path, "receiver"), text)
        receiver = name or (parent.receiver if parent else "")
        if name and name not in receivers:
            problems.append(RouteProblem((*path, "receiver"), f"receiver '{name}' is not defined"))
        if parent is None and matchers:
            problems.append(RouteProblem(path, "the root route must not have matchers"))
        continue_ = _go_bool(data.get("continue"), path, "continue", problems)
        if parent is None and continue_:
            problems.append(RouteProblem((*path, "continue"), "the root route must not have continue"))
        invalid = len(problems) > before  # what follows does not change which alerts the route matches
        group_by, group_by_all = _grouping(data, parent, path, version, problems, text)
        timings = [_timing(data, key, getattr(parent, key) if parent else default, path, problems, text)
                   for key, default in (("group_wait", GROUP_WAIT), ("group_interval", GROUP_INTERVAL),
                                        ("repeat_interval", REPEAT_INTERVAL))]
        route = Route(receiver, matchers, continue_, group_by, path, parent=parent,
                      mute_time_intervals=_interval_names(data, "mute_time_intervals", path, problems, text),
                      active_time_intervals=_interval_names(data, "active_time_intervals", path, problems, text),
                      invalid=invalid, group_by_all=group_by_all, group_wait=timings[0],
                      group_interval=timings[1], repeat_interval=timings[2])
        children = data.get("routes") or []
        if not isinstance(children, list):
            problems.append(RouteProblem((*path, "routes"), "routes must be a list"))
            children = []
        for index, child in enumerate(children):
            built = build(child, route, (*path, "routes", index), depth + 1)
            if built is not None:
                route.children.append(built)
        return route

    root = build(root_data, None, (*base, "route"), 0)
    if root is None:
        return None, problems
    return RoutingTree(root, receivers), problems


def integrations_of(receiver: Mapping[str, Any]) -> list[str]:
    """The notification integrations a receiver has (`email`, `slack`, ...); none makes it a null receiver."""
    return sorted(key.removesuffix("_configs") for key, value in receiver.items()
                  if key.endswith("_configs") and value)
