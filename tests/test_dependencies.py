"""Every package opsbook imports is one it declares: read from the code (every `import` of every module of
plugins/opsbook, as the parser sees it, not as a reader remembers it), mapped to the distributions that
provide it (`importlib.metadata.packages_distributions`, from the installed packages), and found among the
requirements in pyproject.toml of the core, or of the extra the importing module belongs to: the MkDocs
plugin module is installed by `opsbook[mkdocs]` and `opsbook[properdocs]`, and only it may import an engine."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "plugins" / "opsbook"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]

#: The modules that only a host loads, and the extras that install what they import: the MkDocs plugin
#: (MkDocs or ProperDocs loads it by its entry point) and the pytest plugin (pytest loads it by `pytest11`).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "opsbook.mkdocs_plugin": ("mkdocs", "properdocs"),
    "opsbook.pytest_plugin": ("test",),
}
#: Top-level packages an extra provides under another distribution's name: `properdocs build` makes every
#: `mkdocs.*` import an import of `properdocs.*` (properdocs/replacement.py, imported by its command), so
#: the plugin's `from mkdocs... import` is satisfied by ProperDocs without MkDocs installed.
PROVIDED_AS: dict[str, dict[str, str]] = {"properdocs": {"mkdocs": "properdocs"}}
#: The engines and what comes with them: no module but the plugin may import one.
ENGINE_PACKAGES = {"mkdocs", "properdocs", "pymdownx", "material"}


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised as PEP 503 does (`Jinja2` → `jinja2`)."""
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group(1)).lower()


def _extras_of(requirement: str) -> list[str]:
    found = re.match(r"\s*[A-Za-z0-9._-]+\s*\[([^\]]*)\]", requirement)
    return [extra.strip() for extra in found.group(1).split(",")] if found else []


def declared(extra: str | None) -> set[str]:
    """The distributions the core declares, with those of `extra` (and of the extras it names, as
    `opsbook[mkdocs]`) when one is given."""
    names = {_name(requirement) for requirement in PYPROJECT["dependencies"]}
    pending = [extra] if extra else []
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for requirement in PYPROJECT["optional-dependencies"][current]:
            if _name(requirement) == "opsbook":
                pending.extend(_extras_of(requirement))
            else:
                names.add(_name(requirement))
    return names


def imports() -> Iterator[tuple[str, str, int]]:
    """(module, top-level package imported, line) for every absolute import in the package that is not of
    the standard library or of opsbook itself: at the top of a module, in a function, under a condition."""
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "opsbook":
                    yield module, top, node.lineno


def test_the_scan_sees_the_imports_it_must() -> None:
    """The scan finds what is known to be there (so that an empty scan cannot pass the tests below)."""
    found = {(module, top) for module, top, _ in imports()}
    assert ("opsbook.mkdocs_plugin", "mkdocs") in found
    assert ("opsbook.mkdocs_plugin", "pymdownx") in found
    assert ("opsbook.loader", "yaml") in found
    assert any(top == "markupsafe" for _, top, _ in imports())


def test_every_imported_package_is_declared_by_the_core_or_the_modules_extra() -> None:
    providers = importlib.metadata.packages_distributions()
    missing = []
    for module, top, line in imports():
        distributions = {_name(name) for name in providers.get(top, [])}
        assert distributions, f"{module}:{line} imports {top}, which no installed distribution provides"
        for extra in EXTRA_MODULES.get(module, (None,)):
            provided = PROVIDED_AS.get(extra or "", {}).get(top)
            wanted = {_name(provided)} if provided else distributions
            if not wanted & declared(extra):
                where = f"opsbook[{extra}]" if extra else "the core's dependencies"
                missing.append(f"{module}:{line} imports {top} ({', '.join(sorted(wanted))}), not in {where}")
    assert missing == []


def test_only_the_plugin_module_imports_an_engine() -> None:
    engines = sorted(f"{module}:{line} imports {top}" for module, top, line in imports()
                     if top in ENGINE_PACKAGES and module != "opsbook.mkdocs_plugin")
    assert engines == []
    assert not {_name(name) for name in ("mkdocs", "mkdocs-material", "properdocs", "pymdown-extensions")} \
        & declared(None), "the core must install without a site engine"


def test_the_engine_extras_bring_their_engine() -> None:
    assert {"mkdocs", "mkdocs-material", "pymdown-extensions"} <= declared("mkdocs")
    assert {"properdocs", "pymdown-extensions"} <= declared("properdocs")
    # The community fork of Material and Material both ship the `material` package: never both.
    assert "mkdocs-material" not in declared("properdocs")
    assert "mkdocs" in declared("docs") and "mkdocs" in declared("test") and "properdocs" in declared("test")


def test_properdocs_stands_in_for_mkdocs_as_the_alias_says() -> None:
    """`PROVIDED_AS` holds only while ProperDocs still redirects `mkdocs.*` (its replacement module)."""
    if importlib.util.find_spec("properdocs") is None:
        pytest.skip("properdocs is not installed (the test extra brings it)")
    spec = importlib.util.find_spec("properdocs.replacement")
    assert spec is not None and spec.origin
    text = Path(spec.origin).read_text(encoding="utf-8")
    assert "sys.modules['mkdocs'] = sys.modules['properdocs']" in text
    assert 'fullname.startswith("mkdocs.")' in text


def test_the_engines_find_the_plugin_by_their_entry_points() -> None:
    entry_points = PYPROJECT["entry-points"]
    for group in ("mkdocs.plugins", "properdocs.plugins"):
        assert entry_points[group] == {"opsbook": "opsbook.mkdocs_plugin:OpsbookPlugin"}, group


@pytest.mark.parametrize("extra", [None, "mkdocs", "properdocs"])
def test_every_requirement_is_bounded_above(extra: str | None) -> None:
    """A release past the versions tested (a 0.x minor, or a major) is not taken without a test run."""
    requirements = PYPROJECT["optional-dependencies"][extra] if extra else PYPROJECT["dependencies"]
    unbounded = [r for r in requirements if _name(r) != "opsbook" and not re.search(r"<(?!=)|<=|==|~=", r)]
    assert unbounded == []
