"""The configuration file of MkDocs or ProperDocs, found and read the way the engine reads it, so that
`opsbook check` judges the configuration the build runs with.

- **Which file.** ProperDocs reads the first of `properdocs.yml`, `properdocs.yaml`, `mkdocs.yml` and
  `mkdocs.yaml` (`properdocs.config.base._open_config_file`); MkDocs reads `mkdocs.yml`, else
  `mkdocs.yaml`, and never a `properdocs.*` file. `ENGINE_FILES` is ProperDocs' order, which holds MkDocs'.
- **`INHERIT:`** (`mkdocs.utils.yaml.yaml_load`, the same in ProperDocs): a file's `INHERIT` names its
  parent, relative to the file's own folder; the parent is read first (with its own `INHERIT`, and so on),
  then the child is merged into it: two mappings under the same key are merged key by key, at any depth,
  and any other value of the child (a list, text, a number) replaces the parent's whole. Every path
  in the result stays relative to the folder of the file the engine was given, the handbook root,
  whichever file of the chain wrote it. A missing parent is an error at the `INHERIT` line; a chain is
  followed `MAX_INHERIT` files deep at most, and one that comes back to a file is refused (MkDocs would
  recurse until Python stops it).
- **Tags.** `!ENV NAME` and `!ENV [NAME, OTHER, default]` are resolved as the `pyyaml_env_tag` package
  does for both engines: the first variable set, its text typed as YAML types a plain scalar, else the
  default (else null). `!relative` stands for a folder only under `markdown_extensions`: MkDocs refuses it
  as the value of any setting opsbook reads, and so does opsbook. `EngineConfig.as_written` gives the same
  chain merged the same way with every tag kept as written (`Tagged`), for a configuration written out
  for the engine to read (`opsbook build --out`).
- **Settings.** `docs_dir`, `site_url`, `repo_url` and `edit_uri` are validated and completed as MkDocs'
  `config_options` do (`site_url` ends with `/`; `edit_uri` defaults from a GitHub, GitLab or Bitbucket
  `repo_url` and ends with `/`), in `EngineConfig.settings`.

Every value keeps its place: `EngineConfig.locate` names the file of the chain that wrote it, and its
line and column, so a diagnostic about an option inherited from a parent points into the parent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from .diagnostics import Code, Diagnostic, make
from .loader import _SCALAR_TAGS, Document, _mapping_pairs, load_yaml_file

__all__ = ["ENGINE_FILES", "MAX_INHERIT", "MKDOCS_FILES", "SETTINGS", "EngineConfig", "Tagged", "read_engine_config"]

#: The engines' configuration files, in ProperDocs' order of preference (MkDocs reads the last two only).
ENGINE_FILES = ("properdocs.yml", "properdocs.yaml", "mkdocs.yml", "mkdocs.yaml")
#: The files MkDocs itself reads, in its order.
MKDOCS_FILES = ("mkdocs.yml", "mkdocs.yaml")
#: The most files one chain of `INHERIT:` may hold, the first included.
MAX_INHERIT = 16
#: The engine's own settings that opsbook reads, besides its plugin entry.
SETTINGS = ("docs_dir", "site_url", "repo_url", "edit_uri")

_ENV_TAG = "!ENV"
_RELATIVE_TAG = "!relative"
_STR_TAG = "tag:yaml.org,2002:str"
#: The tags of a list and a mapping written with none of their own.
_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
_RESOLVER = yaml.resolver.Resolver()

PathKey = tuple[str | int, ...]
Report = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class Relative:
    """A value written with `!relative` (the engine's placeholder for a folder), kept to be refused where
    opsbook reads it."""

    text: str


@dataclass(frozen=True)
class Tagged:
    """A value as written under its tag, for the engine to read: a tag opsbook does not resolve (`!ENV`,
    `!relative`, `!!python/name:`), or a scalar opsbook's loader keeps as text (a timestamp, `.nan`).
    `value` is what the tag is put on: text, or a list or mapping of values as written."""

    tag: str
    value: Any


@dataclass
class Layer:
    """One file of an `INHERIT` chain: its path (relative to the root, `/`-separated), its document, and
    its values with `!ENV` resolved and `INHERIT` taken out."""

    path: str
    document: Document
    data: dict[str, Any]

    def as_written(self) -> dict[str, Any]:
        """The file's values with every tag kept as written (`Tagged`), `INHERIT` taken out."""
        node = self.document.node
        if node is None or not isinstance(self.document.data, dict):
            return {}
        written = _Tags(self.document, [], None).value(node, self.document.data, ())
        written.pop("INHERIT", None)
        return written


@dataclass
class EngineConfig:
    """An engine's configuration as the engine reads it: the chain of files (the one given first, then each
    parent) and their merged values.

    Attributes:
        file: The file the engine is given, relative to the root (`mkdocs.yml`, `properdocs.yml`, ...).
        layers: The files of the `INHERIT` chain, `file` first.
        data: The values of the whole chain, merged as the engine merges them, tags resolved.
    """

    file: str
    layers: list[Layer] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def locate(self, path: Sequence[str | int], *, key: bool = True) -> tuple[str, int, int]:
        """The file, line and column of the value at `path` of `data` (of its key, with `key`): the nearest
        file of the chain that holds the whole path wrote it; for a path that goes further than every file,
        the one that holds the longest part of it."""
        best: tuple[int, Layer] | None = None
        for layer in self.layers:
            depth = _depth(layer.data, path)
            if depth == len(path):
                best = (depth, layer)
                break
            if best is None or depth > best[0]:
                best = (depth, layer)
        layer = best[1] if best else self.layers[0]
        line, column = layer.document.position(path, key=key)
        return layer.path, line, column

    def as_written(self) -> dict[str, Any]:
        """The values of the whole chain merged as in `data`, but with every tag kept as written
        (`Tagged`), not resolved: what a configuration written out for the engine carries over, so that
        the engine resolves `!ENV` when it builds, and reads `!!python/name:` as it always does."""
        return _merged(layer.as_written() for layer in self.layers)

    def plugin_entry(self, name: str = "opsbook") -> tuple[Any, PathKey]:
        """The options of the plugin `name` under `plugins:` (a list of names and one-key mappings, or a
        mapping of names), and where they are; (None, ()) when the plugin is not listed, or listed bare."""
        plugins = self.data.get("plugins")
        if isinstance(plugins, dict):
            if name in plugins:
                return plugins[name], ("plugins", name)
        elif isinstance(plugins, list):
            for index, entry in enumerate(plugins):
                if isinstance(entry, dict) and name in entry:
                    return entry[name], ("plugins", index, name)
        return None, ()

    def settings(self, code: Code) -> tuple[dict[str, str | None], list[Diagnostic]]:
        """`docs_dir`, `site_url`, `repo_url` and `edit_uri` as MkDocs' validation leaves them (an unset
        one is None, `docs_dir` then `docs`), and a diagnostic of `code` for each value the engine refuses."""
        problems: list[Diagnostic] = []

        def refuse(key: str, message: str) -> None:
            problems.append(make(code, *self.locate((key,)), message))

        values: dict[str, str | None] = {}
        for key in SETTINGS:
            value = self.data.get(key)
            if isinstance(value, Relative):
                refuse(key, f"{key}: MkDocs takes `!relative` only under markdown_extensions")
                value = None
            elif value is not None and not isinstance(value, str):
                refuse(key, f"{key} must be text, not {_type_name(value)}")
                value = None
            elif isinstance(value, str) and key in ("site_url", "repo_url"):
                url = _url(value, is_dir=key == "site_url")
                if url is None:
                    refuse(key, f"{key} is not a URL: it must start with a scheme and a host, such as https://")
                value = url
            values[key] = value
        if values["docs_dir"] is None:
            values["docs_dir"] = "docs"
        values["edit_uri"] = _edit_uri(values["edit_uri"], values["repo_url"])
        return values, problems

    def relative_values(self, path: PathKey) -> Iterator[PathKey]:
        """The places under `path` of `data` that hold a `!relative` value."""
        stack: list[tuple[PathKey, Any]] = [(path, _at(self.data, path))]
        while stack:
            where, value = stack.pop()
            if isinstance(value, Relative):
                yield where
            elif isinstance(value, dict):
                stack.extend(((*where, key), item) for key, item in value.items())
            elif isinstance(value, list):
                stack.extend(((*where, index), item) for index, item in enumerate(value))


def read_engine_config(root: Path, file: str, code: Code) -> tuple[EngineConfig | None, list[Diagnostic]]:
    """Read `file` (one of `ENGINE_FILES`, in `root`) and the chain of files it inherits from, as the
    engine does; problems with the chain (a parent missing, a loop, a file that is not a mapping, a tag the
    engine refuses) are diagnostics of `code`, at the line that causes them. None when a file of the chain
    cannot be read at all (the loader's diagnostic says why)."""
    engine = EngineConfig(file)
    problems: list[Diagnostic] = []
    root = root.resolve()
    current = root / file
    shown = file
    seen: list[str] = []
    inherit_at: tuple[str, int, int] | None = None
    while True:
        real = os.path.realpath(current)
        if real in seen:
            chain = " → ".join([*(layer.path for layer in engine.layers), shown])
            assert inherit_at is not None
            problems.append(make(code, *inherit_at, f"INHERIT comes back to a file of its own chain: {chain}"))
            return None, problems
        if len(seen) == MAX_INHERIT:
            assert inherit_at is not None
            problems.append(make(code, *inherit_at, f"INHERIT is followed {MAX_INHERIT} files deep at most; "
                                                    f"{shown} would be file {MAX_INHERIT + 1} of the chain"))
            return None, problems
        seen.append(real)
        documents, loaded = load_yaml_file(current, shown)
        if loaded:
            return None, [*problems, *loaded]
        document = documents[0] if documents else Document(shown, None, None)
        data = _resolve_tags(document, problems, code)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            problems.append(make(code, shown, *document.position(()),
                                 f"{shown} must be a mapping of settings, not {_type_name(data)}"))
            return None, problems
        inherits = "INHERIT" in data
        parent = data.pop("INHERIT", None)
        engine.layers.append(Layer(shown, document, data))
        if not inherits:
            break
        inherit_at = (shown, *document.position(("INHERIT",), key=False))
        if not isinstance(parent, str) or not parent:
            problems.append(make(code, *inherit_at, "INHERIT must name a file (its path, relative to "
                                                    f"{shown}'s folder), not {_type_name(parent)}"))
            return None, problems
        current = Path(os.path.normpath(os.path.join(os.path.dirname(current), parent)))
        shown = Path(os.path.relpath(current, root)).as_posix()
        if not current.exists():
            problems.append(make(code, *inherit_at, f"INHERIT: the file '{parent}' does not exist "
                                                    f"(looked for {shown})"))
            return None, problems
    engine.data = _merged(layer.data for layer in engine.layers)
    return engine, problems


def _merged(layers: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The values of a chain, the given file's first: each file merged over the parent that follows it."""
    merged: dict[str, Any] = {}
    for data in reversed(list(layers)):
        merged = _merge(merged, data)
    return merged


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """`child` over `parent`, as `mergedeep.merge` (MkDocs) and `deep_merge_dicts` (ProperDocs) do: mappings
    under one key merged, any other value of the child replacing the parent's. Neither is changed."""
    result = dict(parent)
    for key, value in child.items():
        below = result.get(key)
        result[key] = _merge(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return result


def _resolve_tags(document: Document, problems: list[Diagnostic], code: Code) -> Any:
    """The document's values with `!ENV` resolved and `!relative` marked; unchanged when it has neither."""
    if "!" not in document.text or document.node is None:
        return document.data
    return _Tags(document, problems, code).value(document.node, document.data, ())


class _Tags:
    """A document's values walked beside its nodes: with a `code`, `!ENV` resolved and `!relative` marked
    (problems reported with that code); without one, every tag kept as written (`Tagged`)."""

    def __init__(self, document: Document, problems: list[Diagnostic], code: Code | None) -> None:
        self.document = document
        self.problems = problems
        self.code = code

    def value(self, node: yaml.Node, value: Any, path: PathKey) -> Any:
        if self.code is not None:
            if node.tag == _ENV_TAG:
                return self.env(node, value, path)
            if node.tag == _RELATIVE_TAG and isinstance(node, yaml.ScalarNode):
                return Relative(str(node.value))
        elif isinstance(node, yaml.ScalarNode):
            return Tagged(node.tag, value) if isinstance(value, str) and node.tag != _STR_TAG else value
        result = value
        if isinstance(node, yaml.SequenceNode) and isinstance(value, list) and len(value) == len(node.value):
            result = [self.value(item, data, (*path, index))
                      for index, (item, data) in enumerate(zip(node.value, value))]
        elif isinstance(node, yaml.MappingNode) and isinstance(value, dict):
            result = dict(value)
            done: set[str] = set()
            for key_node, value_node in _mapping_pairs(node):  # first pair of a key wins, as the loader's
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if isinstance(key, str) and key in value and key not in done:
                    done.add(key)
                    result[key] = self.value(value_node, value[key], (*path, key))
        if self.code is None and node.tag not in _PLAIN_COLLECTIONS:  # `!ENV [A, B]`, `!!python/...`, `!!set`
            return Tagged(node.tag, result)
        return result

    def env(self, node: yaml.Node, value: Any, path: PathKey) -> Any:
        """`pyyaml_env_tag.construct_env_tag`: the first of the variables that is set, typed as a plain
        scalar; else the default, the last item of a list of two or more; else None."""
        default = None
        if isinstance(node, yaml.ScalarNode):
            names = [node.value]
        elif isinstance(node, yaml.SequenceNode) and isinstance(value, list):
            items = list(zip(node.value, value))
            if len(items) > 1:
                *items, (last, data) = items
                default = self.value(last, data, (*path, len(items)))
            if any(not isinstance(item, yaml.ScalarNode) for item, _ in items):
                self.refuse(path, "!ENV takes variable names, and a default last")
                return None
            names = [item.value for item, _ in items]
        else:
            self.refuse(path, "!ENV takes a variable name, or a list of names and a default")
            return None
        for name in names:
            if name in os.environ:
                return _typed(os.environ[name])
        return default

    def refuse(self, path: PathKey, message: str) -> None:
        assert self.code is not None  # only tags being resolved are refused
        self.problems.append(make(self.code, self.document.path, *self.document.position(path), message))


def _typed(text: str) -> Any:
    """A variable's text as YAML types a plain scalar: `true` a boolean, `8` a number, `~` null; the rest
    (timestamps too, as the loader keeps them) text."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    construct = _SCALAR_TAGS.get(tag)
    if construct is None:
        return text
    try:
        return construct(yaml.ScalarNode(tag, text))
    except (ValueError, OverflowError):
        return text


def _url(value: str, *, is_dir: bool) -> str | None:
    """MkDocs' `config_options.URL`: '' as it is; else a scheme and a host, the path ended with `/` for a
    folder's address; None when it is not a URL."""
    if value == "":
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if not (parts.scheme and parts.netloc):
        return None
    if is_dir and not parts.path.endswith("/"):
        parts = parts._replace(path=f"{parts.path}/")
    return urlunsplit(parts)


def _edit_uri(edit_uri: str | None, repo_url: str | None) -> str | None:
    """MkDocs' `config_options.EditURI`: unset, taken from the host of `repo_url` where MkDocs knows it;
    ended with `/`."""
    if edit_uri is None and repo_url is not None:
        host = urlsplit(repo_url).netloc.lower()
        if host in ("github.com", "gitlab.com"):
            edit_uri = "edit/master/docs/"
        elif host == "bitbucket.org":
            edit_uri = "src/default/docs/"
    if edit_uri and not edit_uri.endswith("/"):
        edit_uri += "/"
    return edit_uri


def _depth(data: Any, path: Sequence[str | int]) -> int:
    """How many parts of `path` lead through `data`."""
    for depth, part in enumerate(path):
        if isinstance(data, dict) and isinstance(part, str) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return depth
    return len(path)


def _at(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        data = data[part]
    return data


def _type_name(value: Any) -> str:
    return {type(None): "null", str: "text", bool: "a boolean", int: "a number", float: "a number",
            list: "a list", dict: "a mapping", Relative: "!relative"}.get(type(value), type(value).__name__)
