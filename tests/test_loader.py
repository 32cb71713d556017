"""The positioned, bounded YAML loader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from opsbook.loader import Limits, load_yaml_file, load_yaml_text

if TYPE_CHECKING:
    from conftest import LoaderWork


def test_positions_of_keys_items_and_nested_values() -> None:
    text = "title: Restart\nsteps:\n  - name: One\n    run: 'true'\n  - {name: Two, manual: x}\nrelated: [a, b]\n"
    (doc,), problems = load_yaml_text("r.yaml", text)
    assert problems == []
    assert doc.position(("title",)) == (1, 8)
    assert doc.position(("title",), key=True) == (1, 1)
    assert doc.position(("steps", 0, "run")) == (4, 10)
    assert doc.position(("steps", 1, "manual"), key=True) == (5, 17)
    assert doc.position(("related", 1)) == (6, 14)
    # A path past the document falls back to the deepest part that exists.
    assert doc.position(("steps", 1, "expect", "timeout")) == (5, 5)


def test_values_keep_their_source_form() -> None:
    (doc,), _ = load_yaml_text("w.yaml", "on: push\nwhen: 2026-10-01\nat: 2026-10-01T10:00:00Z\nn: 3\nb: yes\n")
    assert doc.data == {"on": "push", "when": "2026-10-01", "at": "2026-10-01T10:00:00Z", "n": 3, "b": True}


def test_huge_integers_and_nan_stay_text() -> None:
    (doc,), problems = load_yaml_text("n.yaml", "a: " + "9" * 5000 + "\nb: .nan\n")
    assert problems == [] and doc.data["a"] == "9" * 5000 and doc.data["b"] == ".nan"


def test_duplicate_key_is_reported_at_the_repeat_and_first_value_kept() -> None:
    (doc,), problems = load_yaml_text("d.yaml", "a: 1\nb: 2\na: 3\n")
    assert doc.data == {"a": 1, "b": 2}
    assert [(p.code, p.line, p.column) for p in problems] == [("OB004", 3, 1)]
    assert "first written at line 1" in problems[0].message


def test_merge_keys_fill_only_missing_keys_without_duplicate_reports() -> None:
    (doc,), problems = load_yaml_text("m.yaml", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n")
    assert problems == [] and doc.data["m"] == {"x": 3, "y": 2}


def test_syntax_error_has_position_and_tab_hint() -> None:
    documents, problems = load_yaml_text("t.yaml", "a:\n\tb: 1\n")
    assert documents == []
    (problem,) = problems
    assert (problem.code, problem.line, problem.column) == ("OB001", 2, 1)
    assert problem.hint and "tabs" in problem.hint


def test_alias_bomb_is_refused_in_bounded_work(loader_work: LoaderWork) -> None:
    """10**20 values once expanded; refused after building at most `max_nodes` of them. (How long that
    takes is a target of the benchmark: benchmarks/hostile.py.)"""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 20):
        refs = ",".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    documents, problems = load_yaml_text("bomb.yaml", "\n".join(lines))
    assert documents == [] and [p.code for p in problems] == ["OB005"]
    assert "more than 2,000,000 values" in problems[0].message
    assert 0 < loader_work.most_values_built <= Limits().max_nodes + 1


def test_recursive_alias_is_refused() -> None:
    _, problems = load_yaml_text("r.yaml", "a: &x [1, *x]\n")
    assert [p.code for p in problems] == ["OB005"] and "contains it" in problems[0].message


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    text = "a: " + "[" * 150 + "]" * 150
    _, problems = load_yaml_text("deep.yaml", text, Limits(max_depth=100))
    assert [p.code for p in problems] == ["OB005"]
    _, problems = load_yaml_text("deeper.yaml", "[" * 100_000)
    assert [p.code for p in problems] == ["OB001"]  # libyaml's own nesting limit


def test_invalid_utf8_points_at_the_bad_byte(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_bytes(b"title: ok\nsummary: caf\xe9 au lait\n")
    _, problems = load_yaml_file(file, "bad.yaml")
    assert [(p.code, p.line, p.column) for p in problems] == [("OB002", 2, 13)]


def test_binary_file_is_a_diagnostic(tmp_path: Path) -> None:
    file = tmp_path / "blob.yaml"
    file.write_bytes(bytes(range(256)) * 4)
    _, problems = load_yaml_file(file, "blob.yaml")
    assert len(problems) == 1 and problems[0].code in ("OB001", "OB002")


def test_control_characters_are_a_syntax_error_with_position() -> None:
    _, problems = load_yaml_text("c.yaml", "title: a\x00b\n")
    assert [(p.code, p.line) for p in problems] == [("OB001", 1)]


def test_file_over_the_size_limit_is_not_read(tmp_path: Path, loader_work: LoaderWork) -> None:
    file = tmp_path / "big.yaml"
    with file.open("wb") as handle:  # 10 MB, sparse: its size is all that may be looked at
        handle.truncate(10 * 1000 * 1000 + 4)
    _, problems = load_yaml_file(file, "big.yaml")
    assert [p.code for p in problems] == ["OB003"] and "10,000,004 bytes" in problems[0].message
    assert file not in loader_work.opened and loader_work.builders == []


def test_a_file_that_is_not_regular_is_not_opened(tmp_path: Path, loader_work: LoaderWork) -> None:
    """A device never ends and a named pipe waits for a writer forever: only a regular file is opened."""
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    for file, what in [(Path("/dev/zero"), "is a character device, not a regular file"),
                       (pipe, "is a named pipe (FIFO), not a regular file"),
                       (loop, "is a symbolic link that loops")]:
        _, problems = load_yaml_file(file, "x.yaml", Limits(max_file_size=1000))
        assert [(p.code, p.line, p.message) for p in problems] == [("OB008", 0, f"'x.yaml' {what}; it was not read")]
    assert loader_work.opened == [] and loader_work.builders == []


def test_positions_are_found_in_work_linear_in_the_keys(loader_work: LoaderWork) -> None:
    """Each mapping on a path is indexed once: the position of every one of 50,000 keys is one lookup, not
    a search of the mapping (which made 50,000 unknown keys 1.25 billion comparisons)."""
    keys = 50_000
    text = "title: R\nsteps: [{name: S, manual: m}]\n" + "".join(f"k{i:05d}: v\n" for i in range(keys))
    (doc,), problems = load_yaml_text("r.yaml", text)
    assert problems == []
    built = loader_work.pairs_walked  # the values built, once
    positions = [doc.position((f"k{i:05d}",), key=True) for i in range(keys)]
    assert positions[0] == (3, 1) and positions[-1] == (keys + 2, 1)
    assert doc.position(("steps", 0, "manual")) == (2, 27)
    assert loader_work.pairs_walked - built <= keys + 10  # the top mapping indexed once, the step's once


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    file = tmp_path / "bom.yaml"
    file.write_bytes(b"\xef\xbb\xbftitle: ok\n")
    (doc,), problems = load_yaml_file(file, "bom.yaml")
    assert problems == [] and doc.data == {"title": "ok"}


def test_multi_document_files_give_one_document_each() -> None:
    documents, problems = load_yaml_text("m.yaml", "a: 1\n---\nb: 2\n")
    assert problems == [] and [d.data for d in documents] == [{"a": 1}, {"b": 2}]
    assert documents[1].position(("b",)) == (3, 4)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_documents(text: str) -> None:
    documents, problems = load_yaml_text("e.yaml", text)
    assert problems == [] and all(d.data is None for d in documents)


def test_complex_keys_are_refused() -> None:
    _, problems = load_yaml_text("k.yaml", "? [a, b]\n: 1\n")
    assert [(p.code, p.line, p.column) for p in problems] == [("OB007", 1, 3)]
