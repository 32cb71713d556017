"""The guide's map of opsbook's own code (docs/guide/internals.md) stays true to the code.

- every module file of plugins/opsbook has a row in "The map of the code", and every row names a file
  that exists;
- every `identifier` in a row's "Key names" cell exists in that module: a module-level name, or a
  member (attribute, method, dataclass field, or `self.name` set in its code) of a class named in the
  same cell;
- every module path, package folder and dotted `opsbook.…` name the page mentions exists;
- the table of diagnostic codes names every code of the catalogue once, beside the module that declares it;
- every family of the registry has its row;
- a `KIND = Kind(...)` declaration the page quotes is the code's, as written;
- the Python API pages (`::: opsbook.X` and `opsbook.…` names) name only things that exist.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).parent.parent
PACKAGE = REPO / "plugins" / "opsbook"
PAGE = REPO / "docs" / "guide" / "internals.md"
API_PAGES = [REPO / "docs" / "guide" / "api.md", REPO / "docs" / "API_DOCUMENTATION.md"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _section(title: str) -> str:
    """The text of the page's `## title` section, up to the next `## ` heading."""
    text = PAGE.read_text(encoding="utf-8")
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert found, f"internals.md has no '## {title}' section"
    return found.group(1)


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of each row of the first table whose header row starts with `| header |`."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"| {header} |")), None)
    assert start is not None, f"no table with a '{header}' column"
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def _map_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for cells in _table_rows(_section("The map of the code"), "Module"):
        path = _CODE_SPAN.fullmatch(cells[0])
        assert path, f"a module cell should be one code span: {cells[0]!r}"
        assert path.group(1) not in rows, f"{path.group(1)} has two rows"
        rows[path.group(1)] = cells
    return rows


def _module_files() -> set[str]:
    return {file.relative_to(PACKAGE).as_posix() for file in PACKAGE.rglob("*.py")
            if "__pycache__" not in file.parts}


def _module_name(path: str) -> str:
    parts = ["opsbook", *path.removesuffix(".py").split("/")]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _has_member(cls: type, name: str) -> bool:
    if hasattr(cls, name):
        return True
    if dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)}:
        return True
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}):
            return True
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if re.search(rf"\bself\.{re.escape(name)}\b\s*(:[^=\n]+)?=", source):
            return True
    return False


def test_every_module_has_a_row_and_every_row_a_module() -> None:
    rows = set(_map_rows())
    files = _module_files()
    assert sorted(files - rows) == [], "modules missing from the map of the code in internals.md"
    assert sorted(rows - files) == [], "rows of the map of the code naming no module"


@pytest.mark.parametrize("path", sorted(_module_files()))
def test_key_names_exist(path: str) -> None:
    cells = _map_rows().get(path)
    if cells is None:
        pytest.fail(f"{path} has no row in the map of the code")
    if path == "__main__.py":
        assert _CODE_SPAN.findall(cells[2]) == [], "importing __main__ would run the command"
        return
    module = importlib.import_module(_module_name(path))
    names = [name for name in _CODE_SPAN.findall(cells[2]) if _IDENTIFIER.fullmatch(name)]
    classes = [getattr(module, name) for name in names
               if inspect.isclass(getattr(module, name, None))]
    missing = [name for name in names
               if not hasattr(module, name) and not any(_has_member(cls, name) for cls in classes)]
    assert missing == [], f"{path}: key names that are neither in the module nor members of its classes named"


def _mentioned_paths() -> set[str]:
    return {span for span in _CODE_SPAN.findall(PAGE.read_text(encoding="utf-8"))
            if re.fullmatch(r"[A-Za-z0-9_./-]+\.py", span) or re.fullmatch(r"[a-z_]+(/[a-z_]+)*/", span)}


def test_every_path_the_page_mentions_exists() -> None:
    # A path is the package's (`kinds/runbooks/`), the repository's (`benchmarks/run.py`), or a test's.
    places = (PACKAGE, REPO, REPO / "tests", REPO / "benchmarks")
    missing = [span for span in sorted(_mentioned_paths())
               if not any((place / span).exists() for place in places)
               and not (span.endswith("/") and any(PACKAGE.rglob(span.rstrip("/"))))]  # `templates/`: each package's
    assert missing == [], "internals.md names files or folders that do not exist"


def _resolve(dotted: str) -> object:
    """The module or attribute a dotted `opsbook.…` name denotes; raises when there is none."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for part in parts[cut:]:
            value = getattr(value, part)
        return value
    raise ModuleNotFoundError(dotted)


def _dotted_names(text: str) -> set[str]:
    found = set()
    for span in _CODE_SPAN.findall(text):
        for name in re.findall(r"\bopsbook(?:\.[A-Za-z_][A-Za-z0-9_]*)+", span):
            if not name.endswith((".yml", ".yaml", ".json", ".md", ".css", ".js")):  # a file name, not a Python name
                found.add(name)
    return found


def test_every_dotted_name_the_page_mentions_exists() -> None:
    missing = []
    for name in sorted(_dotted_names(PAGE.read_text(encoding="utf-8"))):
        if name.startswith("opsbook.kinds.certificates"):
            continue  # the walkthrough's family, not part of opsbook
        try:
            _resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert missing == []


def test_the_codes_table_is_the_catalogue() -> None:
    from opsbook.registry import CODES

    seen: dict[str, str] = {}
    for cells in _table_rows(_section("Diagnostics and their codes"), "Codes"):
        module_path = _CODE_SPAN.fullmatch(cells[1])
        assert module_path, cells
        module: ModuleType = importlib.import_module(_module_name(module_path.group(1)))
        for code in re.findall(r"OB\d{3}", cells[0]):
            assert code not in seen, f"{code} is in two rows"
            seen[code] = module_path.group(1)
            declared = getattr(module, code, None)
            assert declared is CODES.get(code), f"{code} is not declared in {module_path.group(1)}"
            assert inspect.getsource(module).count(f'Code("{code}"') == 1, (
                f"{module_path.group(1)} imports {code}; the table should name the module that declares it")
    assert sorted(seen) == sorted(CODES), "the codes table should list each code of the catalogue"


def test_every_family_has_a_row() -> None:
    from opsbook.registry import FAMILIES

    rows = _table_rows(_section("Families and the registry"), "Family")
    named = {_CODE_SPAN.fullmatch(cells[0]).group(1) for cells in rows if _CODE_SPAN.fullmatch(cells[0])}
    assert named == {f"kinds/{family.name}/" for family in FAMILIES}
    for cells in rows:
        family = next(f for f in FAMILIES if cells[0] == f"`kinds/{f.name}/`")
        assert set(_CODE_SPAN.findall(cells[1])) == {kind.name for kind in family.kinds}, cells[0]
        assert set(_CODE_SPAN.findall(cells[2])) == {section.name for section in family.sections}, cells[0]
        assert set(_CODE_SPAN.findall(cells[3])) == {check.__name__ for check in family.checks}, cells[0]


def test_quoted_kind_declarations_are_the_code() -> None:
    blocks = re.findall(r"^```python\n(KIND = Kind\(.*?^\))\n```", PAGE.read_text(encoding="utf-8"), re.M | re.S)
    assert blocks, "internals.md quotes a kind's declaration"
    sources = "\n".join(file.read_text(encoding="utf-8") for file in (PACKAGE / "kinds").rglob("*.py"))
    for block in blocks:
        assert block in sources, f"the quoted declaration is not in the code:\n{block}"


@pytest.mark.parametrize("page", API_PAGES, ids=lambda p: p.name)
def test_the_api_pages_name_only_what_exists(page: Path) -> None:
    import opsbook

    text = page.read_text(encoding="utf-8")
    directives = re.findall(r"^::: (\S+)", text, re.M)
    assert directives
    for name in directives:
        _resolve(name)
        if name.count(".") == 1:
            assert name.split(".")[1] in opsbook.__all__, f"{name} is documented as public but not in __all__"
    for name in _dotted_names(text):
        _resolve(name)


def test_every_public_name_is_documented_on_the_api_page() -> None:
    """The public façade: every name of `opsbook.__all__` is on the guide's API page (as `::: opsbook.NAME` or
    in its prose), so that "names outside `__all__` are internal and may move" is a promise kept."""
    import opsbook

    page = (Path(__file__).parent.parent / "docs" / "guide" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in opsbook.__all__ if f"opsbook.{name}" not in page]
    assert missing == [], f"public names not documented on docs/guide/api.md: {missing}"
