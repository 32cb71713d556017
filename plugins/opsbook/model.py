"""The Handbook graph: records by kind and id, references resolved, back-references computed once.

A kind (runbook, alert, team, ...) is declared once, in its family's package under `opsbook.kinds`, as
a `Kind`: data saying how its records are read and linked (record type, folders, schema, which of its
fields point at which kinds). Everything here works for any kind from those declarations alone; the
kinds are handed in by the caller (`opsbook.registry.KINDS`), never imported.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, overload

from .config import Config
from .diagnostics import Code, Diagnostic, Severity, make
from .loader import OB008, Document, load_yaml_file, not_regular

__all__ = ["Handbook", "Kind", "MappingField", "MappingListField", "Record", "Ref", "Reference", "TextField",
           "TextListField", "as_list", "as_mapping", "load_handbook"]

OB006 = Code("OB006", Severity.ERROR, "Source file outside the repository",
         "A source folder holds a symbolic link that points outside the handbook root. opsbook does not "
         "follow it: a pull request must not be able to make the build read files elsewhere on the machine.")

Check = Callable[["Handbook"], Iterable[Diagnostic]]
"""A check: a generator of the diagnostics it finds in a handbook."""


@dataclass(frozen=True)
class Ref:
    """A field of a kind that names records of another kind.

    Attributes:
        field: The field holding an id, or a list of ids when `many`; a dotted path reaches into
            mappings (`data.deletion_runbook`).
        kind: The kind the ids name.
        many: Whether the field is a list.
        label: How the referring records are titled on the target's page ("Related runbooks").
        item_key: For a list of mappings, the key of each item that holds the id
            (`depends_on: [{component: orders-db, ...}]` is
            `Ref("depends_on", "component", True, item_key="component")`).
    """

    field: str
    kind: str
    many: bool = False
    label: str = ""
    item_key: str | None = None

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))


@dataclass
class Record:
    """One record of any kind, as loaded from its source document."""

    kind: ClassVar[str] = "record"

    id: str
    data: dict[str, Any]
    document: Document
    id_from_file: bool = False

    @property
    def path(self) -> str:
        return self.document.path

    def position(self, *path: str | int, key: bool = False) -> tuple[int, int]:
        return self.document.position((*self._prefix(), *path), key=key)

    def _prefix(self) -> tuple[str | int, ...]:
        return ()

    def line(self, *path: str | int) -> int | None:
        """The line of a field for a page to show, or None when finding it would mean composing the
        node tree of a source read as JSON (positions are composed only for diagnostics)."""
        if self.document.lazy:
            return None
        return self.position(*path)[0]

    #: The fields a record's title is read from, the first one set first (a kind whose records have no
    #: `title` field names only `name`).
    TITLE_FIELDS: ClassVar[tuple[str, ...]] = ("title", "name")

    @property
    def title(self) -> str:
        value = next((v for v in map(self.data.get, self.TITLE_FIELDS) if v), None)
        return value if isinstance(value, str) and value.strip() else self.id

    @property
    def slug(self) -> str:
        """The record's file name in the site: its id when that is a safe file name, else a safe form
        of it with a short digest (a receiver named `../../x` must not write outside the site)."""
        return safe_slug(self.id)


T = TypeVar("T")


class _Field(Generic[T]):
    """A record attribute read from one key of its data, tolerant of data of the wrong shape: such a
    value reads as empty, and the schema check is what reports it. Written once for every kind."""

    def __init__(self, key: str | None = None) -> None:
        self.key = key or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = self.key or name

    @overload
    def __get__(self, record: None, owner: type) -> _Field[T]: ...
    @overload
    def __get__(self, record: Record, owner: type) -> T: ...
    def __get__(self, record: Record | None, owner: type) -> _Field[T] | T:
        if record is None:
            return self
        return self.read(record.data.get(self.key))

    def read(self, value: Any) -> T:
        raise NotImplementedError


class TextField(_Field["str | None"]):
    """Text, or None; with `blank=False`, text that is only spaces is None too."""

    def __init__(self, key: str | None = None, *, blank: bool = True) -> None:
        super().__init__(key)
        self.blank = blank

    def read(self, value: Any) -> str | None:
        return value if isinstance(value, str) and (self.blank or value.strip()) else None

    @staticmethod
    def of(data: dict[str, Any], key: str) -> str | None:
        """The text at `key` of a mapping, None when it is not text or only spaces."""
        return TextField(key, blank=False).read(data.get(key))


class TextListField(_Field[list[str]]):
    """The text items of a list (other items left out); empty when the value is not a list."""

    def read(self, value: Any) -> list[str]:
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def as_list(value: object) -> list[Any]:
    """`value` when it is a list, else an empty one (for data read from a user's file)."""
    return value if isinstance(value, list) else []


def as_mapping(value: object) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (for data read from a user's file)."""
    return value if isinstance(value, dict) else {}


class MappingField(_Field[dict[str, Any]]):
    """A mapping; empty when the value is not one."""

    def read(self, value: Any) -> dict[str, Any]:
        return as_mapping(value)


class MappingListField(_Field[list[dict[str, Any]]]):
    """The mapping items of a list (other items left out); empty when the value is not a list."""

    def read(self, value: Any) -> list[dict[str, Any]]:
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


#: Page names the kinds' own pages use beside their records'.
_RESERVED = {"index", "personal-data"}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def safe_slug(text: object) -> str:
    """`text` when it is a safe file name (no separators, no leading dot, no `..`), else a safe form."""
    value = str(text)
    if _SAFE_NAME.fullmatch(value) and ".." not in value and value not in _RESERVED:
        return value
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-")[:80] or "x"
    return f"{clean}-{hashlib.sha1(value.encode('utf-8')).hexdigest()[:6]}"


@dataclass(frozen=True)
class Reference:
    """A resolved or dangling reference: `source`'s field `ref`, item `index`, names `target_id`."""

    source: Record
    ref: Ref
    target_id: str
    index: int | None
    target: Record | None

    @property
    def field_path(self) -> tuple[str | int, ...]:
        """Where, inside the record, the id is written."""
        if self.index is None:
            return self.ref.path
        return (*self.ref.path, self.index, *((self.ref.item_key,) if self.ref.item_key else ()))

    @property
    def field_name(self) -> str:
        """The field as people read it: `related[1]`, `depends_on[0].component`."""
        text = self.ref.field + (f"[{self.index}]" if self.index is not None else "")
        return text + (f".{self.ref.item_key}" if self.ref.item_key and self.index is not None else "")


@dataclass(frozen=True)
class Kind:
    """How the records of one kind are read and linked: a declaration, with no checks or pages.

    Attributes:
        name: The kind's name in configuration and diagnostics (`runbook`, `alert`).
        page_folder: The folder of its pages in the site, unless the `pages` option moves it.
        record_type: The `Record` subclass its records are.
        folders: Where its sources are by default (folders or single files); empty for a kind whose
            records come from another kind's files (a receiver, from the Alertmanager configuration).
        schema: The published JSON Schema its records are validated against, if any.
        refs: The fields that name records of other kinds.
        patterns: The file names read in its folders.
        records_from: Turns one document into records (of any kind) and diagnostics; one record per
            document when unset.
        schema_error: Turns a schema error into a diagnostic of the kind's own (True: drop it).
        unique_ids: Whether two records with one id are an error.
        reader: Reads a source file that is not YAML (migrations are SQL).
        dialects: The dialects its files may be written in, by name, each with the function that reads
            a document in it, as `records_from` does; the `rule_dialects` option says which files are in
            which, and `records_from` reads the others.
    """

    name: str
    page_folder: str
    record_type: type[Record]
    folders: tuple[str, ...]
    schema: str | None = None
    refs: tuple[Ref, ...] = ()
    patterns: tuple[str, ...] = ("*.yaml", "*.yml")
    records_from: Callable[[Document], Iterable[Record | Diagnostic]] | None = None
    schema_error: Callable[[Any, Record | None], Diagnostic | None | bool] | None = None
    unique_ids: bool = True
    reader: Callable[[Path, str, Any], tuple[list[Document], list[Diagnostic]]] | None = None
    dialects: Mapping[str, Callable[[Document], Iterable[Record | Diagnostic]]] = field(default_factory=dict)


R = TypeVar("R", bound=Record)


@dataclass
class Handbook:
    """The whole linked model of one handbook."""

    config: Config
    kinds: dict[str, Kind]
    loaded: dict[str, list[Record]] = field(default_factory=dict)
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    #: Sources that could not be read as YAML (relative path, file): no records, but still scanned for secrets.
    unparsed: list[tuple[str, Path]] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    load_diagnostics: list[Diagnostic] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    _backrefs: dict[tuple[str, str], list[Reference]] = field(default_factory=dict)
    #: Values derived once from the whole model (routing, links), shared by checks and pages.
    cache: dict[str, Any] = field(default_factory=dict)

    def derived(self, key: str, compute: Callable[[Handbook], Any]) -> Any:
        """A value computed once per handbook from the whole model."""
        if key not in self.cache:
            self.cache[key] = compute(self)
        return self.cache[key]

    @property
    def root(self) -> Path:
        return self.config.root

    def get(self, kind: str, record_id: object) -> Record | None:
        if not isinstance(record_id, str):
            return None  # a reference of the wrong type names nothing; the schema check says so
        return self.records.get(kind, {}).get(record_id)

    def variants(self, kind: str, record_id: str) -> list[Record]:
        """Every loaded record of a kind with this id (alerts may be defined more than once)."""
        return [record for record in self.loaded.get(kind, []) if record.id == record_id]

    def all(self, kind: str) -> list[Record]:
        """Records of a kind, each id once, in id order."""
        return [self.records[kind][key] for key in sorted(self.records.get(kind, {}))]

    def record_of(self, record_type: type[R], record_id: object) -> R | None:
        """The record of that type's kind with this id, or None (also when the id is not text)."""
        found = self.get(record_type.kind, record_id)
        return found if isinstance(found, record_type) else None

    def records_of(self, record_type: type[R]) -> list[R]:
        """Records of the kind whose record type is `record_type`, each id once, in id order."""
        return [record for record in self.all(record_type.kind) if isinstance(record, record_type)]

    def loaded_of(self, record_type: type[R]) -> list[R]:
        """Every loaded record of that kind, duplicates included, in load order."""
        return [record for record in self.loaded.get(record_type.kind, []) if isinstance(record, record_type)]

    def referrers(self, record: Record, kind: str | None = None) -> list[Reference]:
        """References that point at `record`, optionally only those from records of `kind`."""
        found = self._backrefs.get((record.kind, record.id), [])
        return [ref for ref in found if kind is None or ref.source.kind == kind]

    def docs_pages(self) -> list[tuple[str, str]]:
        """(path from the root, text) of every hand-written Markdown page, read once per handbook.

        Links are not followed, and a page over 4 MiB or not UTF-8 is left out."""
        def read(handbook: Handbook) -> list[tuple[str, str]]:
            docs = handbook.root / handbook.config.docs_dir
            pages = []
            for file in sorted(docs.rglob("*.md")) if docs.is_dir() else []:
                if file.is_symlink() or not file.is_file() or file.stat().st_size > 4 * 1024 * 1024:
                    continue
                try:
                    pages.append((file.relative_to(handbook.root).as_posix(), file.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError):
                    continue
            return pages

        return self.derived("docs_pages", read)

    def referrers_of_kind(self, kind: str, record_id: str, source_kind: str) -> list[Record]:
        """Records of `source_kind` that reference the record `kind`/`record_id`."""
        target = self.get(kind, record_id)
        if target is None:
            return []
        return [reference.source for reference in self.referrers(target, source_kind)]

    def targets(self, record: Record, field_name: str) -> list[Reference]:
        return [ref for ref in self.references if ref.source is record and ref.ref.field == field_name]

    def resolve(self) -> None:
        """Index records by id (the first of duplicates wins) and resolve every declared reference."""
        self.records = {}
        for kind, records in self.loaded.items():
            index = self.records.setdefault(kind, {})
            for record in records:
                if isinstance(record.id, str):
                    index.setdefault(record.id, record)
        self.references = list(self._walk_references())
        self._backrefs = {}
        for reference in self.references:
            if reference.target is not None:
                key = (reference.target.kind, reference.target.id)
                self._backrefs.setdefault(key, []).append(reference)

    def _walk_references(self) -> Iterator[Reference]:
        for kind_name in sorted(self.records):
            kind = self.kinds[kind_name]
            for record in self.all(kind_name):
                for ref in kind.refs:
                    value: Any = record.data
                    for part in ref.path:
                        value = value.get(part) if isinstance(value, dict) else None
                    items: list[tuple[int | None, Any]]
                    if ref.many:
                        items = list(enumerate(value)) if isinstance(value, list) else []
                        if ref.item_key:
                            items = [(i, item.get(ref.item_key) if isinstance(item, dict) else None)
                                     for i, item in items]
                    else:
                        items = [(None, value)] if value is not None else []
                    for index, target_id in items:
                        if isinstance(target_id, str):
                            yield Reference(record, ref, target_id, index, self.get(ref.kind, target_id))


def _source_files(root: Path, folder: str, patterns: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """Files of a source folder matching the patterns, in a stable order, without following links.

    A single-file location that is not a folder is yielded whatever it is, and so is a link that loops
    whatever its name (it may have been meant as a folder): the caller refuses what is not a regular file."""
    base = root / folder
    if base.exists() and not base.is_dir():
        yield base, folder
        return
    if not base.is_dir():
        return
    for directory, subdirs, names in os.walk(base):
        subdirs.sort()
        for name in sorted(names):
            file = Path(directory) / name
            if any(fnmatch.fnmatch(name, pattern) for pattern in patterns) or _loops(file):
                yield file, file.relative_to(root).as_posix()


def _loops(file: Path) -> bool:
    """Whether `file` is a symbolic link that never reaches a file (`a` → `b` → `a`)."""
    return file.is_symlink() and not file.exists() and not_regular(file) is not None


def _inside(root: Path, file: Path, linked_only: bool = True) -> bool:
    if linked_only and not file.is_symlink():
        return True  # os.walk does not follow linked folders: only a linked file can lead outside
    try:
        file.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    except (OSError, RuntimeError):  # a link that loops (RuntimeError before Python 3.13) leads nowhere
        return True
    return True


def _unreadable(root: Path, file: Path, relpath: str) -> Diagnostic | None:
    """Why a source file is not read: a link that leads outside the repository (OB006); a named pipe, a
    socket, a device or a link that loops (OB008), which would hang or break the reading. None when it
    can be read."""
    if not _inside(root, file):
        return make(OB006, relpath, 1, 1, f"'{relpath}' links outside the repository; it was not read")
    why = not_regular(file)
    if why is not None:  # line 0: it has no lines, and no reporter opens it to show one
        return make(OB008, relpath, 0, 0, f"'{relpath}' {why}; it was not read")
    return None


def special_docs(root: Path, docs_dir: str) -> list[Diagnostic]:
    """OB008 for each entry of the docs folder that MkDocs or `opsbook build` could not read as a page
    or a file to copy: a named pipe would hang the build, a device never end, a link that loops break
    it. MkDocs follows linked folders, so they are followed here too, within the repository, each real
    folder once; a linked folder that holds itself (`docs/all` → `.`) is reported, not walked: MkDocs
    would walk it until the path is too long, and two such links are 2**40 folders."""
    docs = root / docs_dir
    if not docs.is_dir() or not _inside(root, docs, linked_only=False):
        return []
    found: list[Diagnostic] = []

    def report(folder: str, name: str, why: str) -> None:  # where the entry really is: each once
        relpath = Path(os.path.relpath(os.path.join(folder, name), base)).as_posix()
        found.append(make(OB008, relpath, 0, 0, f"'{relpath}' {why}; it was not read"))

    def entries(folder: Path) -> Iterator[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as listing:
                return iter(sorted(listing, key=lambda entry: entry.name))
        except OSError:
            return iter(())

    base, top = os.path.realpath(root), os.path.realpath(docs)
    walking, walked = {top}, {top}
    stack = [(docs, top, entries(docs))]
    while stack:  # depth first, without recursion: a folder nested a thousand deep is no error
        _, real, listing = stack[-1]
        entry = next(listing, None)
        if entry is None:
            stack.pop()
            walking.discard(real)
            continue
        path = Path(entry.path)
        try:
            folder = entry.is_dir()  # links followed, as MkDocs does
        except OSError:
            folder = False
        if not folder:
            why = not_regular(path)
            if why is not None:
                report(real, entry.name, why)
            continue
        target = os.path.realpath(path)
        if target in walking:
            report(real, entry.name, "links to a folder that holds it, a loop")
        elif target not in walked and (target == base or target.startswith(base + os.sep)):
            walked.add(target)
            walking.add(target)
            stack.append((path, target, entries(path)))
    return found


def load_handbook(config: Config, kinds: dict[str, Kind]) -> Handbook:
    """Load every source of every kind under the configured folders, and resolve the references."""
    handbook = Handbook(config=config, kinds=kinds)
    handbook.loaded = {name: [] for name in kinds}
    root = config.root
    for kind in kinds.values():
        for folder in config.sources.get(kind.name, list(kind.folders)):
            if (root / folder).exists() and not _inside(root, root / folder, linked_only=False):
                handbook.load_diagnostics.append(make(
                    OB006, folder, 1, 1, f"source folder '{folder}' leads outside the repository; it was not read"))
                continue
            if _loops(root / folder):
                handbook.load_diagnostics.append(make(
                    OB008, folder, 0, 0, f"source location '{folder}' is a symbolic link that loops; it was not read"))
                continue
            if (root / folder).exists():
                handbook.present.add(kind.name)
            for file, relpath in _source_files(root, folder, kind.patterns):
                refused = _unreadable(root, file, relpath)
                if refused is not None:
                    handbook.load_diagnostics.append(refused)
                    continue
                documents, problems = _parsed(file, relpath, kind, config)
                handbook.load_diagnostics.extend(problems)
                if not documents and problems:
                    handbook.unparsed.append((relpath, file))
                records_from = kind.records_from
                if kind.dialects:
                    records_from = kind.dialects.get(config.dialect_of(relpath) or "", records_from)
                for document in documents:
                    handbook.documents.append(document)
                    if records_from is None:
                        if document.data is not None:
                            handbook.loaded[kind.name].append(default_record(kind, document))
                        continue
                    for item in records_from(document):
                        if isinstance(item, Diagnostic):
                            handbook.load_diagnostics.append(item)
                        else:  # a source may hold records of several kinds (a rule file: groups, alerts)
                            handbook.loaded.setdefault(item.kind, []).append(item)
                            handbook.present.add(item.kind)
    handbook.load_diagnostics.extend(special_docs(root, config.docs_dir))
    handbook.resolve()
    return handbook


#: Parsed sources by file, kept for the life of the process: `mkdocs serve` rebuilds after every edit,
#: and only the files that changed (by size and modification time) are parsed again.
_PARSED: dict[tuple[str, str], tuple[tuple[int, int, Any], list[Document], list[Diagnostic]]] = {}


def forget_parsed() -> None:
    """Drop the parsed sources kept for the next rebuild (a one-off build has no next one)."""
    _PARSED.clear()


def _parsed(file: Path, relpath: str, kind: Kind, config: Config) -> tuple[list[Document], list[Diagnostic]]:
    try:
        stat = file.stat()
    except OSError:
        stat = None
    key = (str(file), kind.name)
    stamp = (stat.st_mtime_ns, stat.st_size, config.limits) if stat else None
    cached = _PARSED.get(key)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1], cached[2]
    read = kind.reader or load_yaml_file
    documents, problems = read(file, relpath, config.limits)
    if stamp is not None:
        _PARSED[key] = (stamp, documents, problems)
    return documents, problems


def default_record(kind: Kind, document: Document) -> Record:
    """One record per document; its id is the `id` field, else the file name without extension."""
    data = document.data if isinstance(document.data, dict) else {}
    declared = data.get("id")
    if isinstance(declared, str) and declared:
        return kind.record_type(declared, data, document)
    stem = Path(document.path).name.rsplit(".", 1)[0]
    return kind.record_type(stem, data, document, id_from_file=True)
