"""Hostile input: every text field carrying markup, scripts, template and diagram syntax, look-alike
ids, path tricks and oversized files. Each case gets a diagnostic or safely escaped output, in bounded
time, never a traceback; a real MkDocs build of the hostile handbook emits no markup of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from opsbook import analyse

MARK = "pwn4711"
PAYLOAD = (f'<script>alert("{MARK}")</script><img src=x onerror=alert("{MARK}")>[x](javascript:alert("{MARK}"))'
           f'{{: onclick=alert("{MARK}") }} {{{{ 7*7 }}}} {{% raw %}} ]]"]-->x[("{MARK}")')


def _yaml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hostile_handbook(make_handbook: Callable[..., Path]) -> Path:
    p = _yaml(PAYLOAD)
    return make_handbook({
        "docs/index.md": "# Home\n",
        "teams/web.yaml": f"name: {p}\nchannel: {p}\nreceivers: [pager]\noncall: {{rotation: {p}, escalation: [{p}]}}\n",
        "components/api.yaml": f"name: {p}\nkind: service\nowner: web\ndescription: {p}\n"
                               f"depends_on: [{{component: db, protocol: {p}, purpose: {p}}}]\n",
        "components/db.yaml": f"name: {p}\nkind: datastore\nowner: web\nrpo: 1h\ndata: {{classification: internal}}\n",
        "runbooks/r.yaml": f"title: {p}\nsummary: {p}\nowner: web\nservice: api\nalerts: [Bad]\nsymptoms: [{p}]\n"
                           f"inputs: {{X: {{description: {p}, default: {p}}}}}\n"
                           f"steps:\n  - name: {p}\n    run: {p}\n    expect: {{stdout: {p}}}\n"
                           f"  - name: {p}\n    manual: {p}\n",
        "ops/alerts/a.yml": f"groups:\n  - name: {p}\n    rules:\n      - alert: Bad\n        expr: up == 0\n"
                            f"        labels: {{severity: warning, team: {p}}}\n"
                            f"        annotations: {{summary: {p}, description: {p}, runbook_url: runbooks/r/}}\n",
        "ops/alertmanager.yml": f"route: {{receiver: pager}}\nreceivers: [{{name: pager, webhook_configs: [{{url: 'http://127.0.0.1:9/'}}]}}]\n",
        ".github/workflows/w.yml": f"name: {p}\non: push\npermissions: {{}}\njobs:\n  j:\n    name: {p}\n"
                                  f"    runs-on: x\n    steps: [{{name: {p}, run: echo}}]\n",
    }, shellcheck=False)


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            dangerous_url = name in ("href", "src") and re.match(r"\s*(javascript|data|vbscript):", value, re.I)
            if MARK in value and (name.startswith("on") or dangerous_url or tag == "script"):
                self.bad.append(f"<{tag} {name}={value!r}>")
        if tag in ("img", "iframe", "object") and any(MARK in (v or "") for _, v in attrs):
            self.bad.append(f"<{tag}>")

    def handle_data(self, data: str) -> None:
        if self.in_script and MARK in data:
            self.bad.append(f"<script>{data[:80]}")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False


def test_injection_everywhere_renders_as_text(make_handbook: Callable[..., Path]) -> None:
    root = hostile_handbook(make_handbook)
    analysis = analyse(root)
    assert not [d for d in analysis.diagnostics if d.code in ("OB001", "OB005")]
    pages = analysis.pages()
    assert len(pages) > 20
    for page in pages:
        # Outside code (which Markdown shows verbatim, escaped), no source text is markup.
        prose = re.sub(r"(`{3,}).*?\1", "", page.text, flags=re.S)
        prose = re.sub(r"(`+).+?\1", "", prose)
        assert "<script" not in prose and "<img" not in prose and "](javascript" not in prose, page.uri
        assert "{: onclick" not in prose and "{{ 7*7 }}" not in prose, page.uri
    (root / "mkdocs.yml").write_text("site_name: hostile\ntheme: {name: material, font: false}\nplugins:\n"
                                     "  - opsbook:\n      today: '2026-11-26'\n      shellcheck: false\n",
                                     encoding="utf-8")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=root, capture_output=True, text=True,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    checked = 0
    for html_file in (root / "site").rglob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        parser = _Scripts()
        parser.feed(text)
        assert parser.bad == [], (html_file, parser.bad)
        assert ">49<" not in text and "49 " not in text.split(MARK)[0][-6:]  # no template evaluated
        checked += 1
    assert checked > 20


def test_template_syntax_stays_literal(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/r.yaml": 'title: "{{ 7*7 }} {% for x in [1] %}x{% endfor %}"\n'
                                             "steps: [{name: S, manual: m}]\n"})
    page = next(p.text for p in analyse(root).pages() if p.uri == "runbooks/r.md")
    assert page.startswith("# &#123;&#123; 7&#42;7 &#125;&#125; &#123;% for x in &#91;1&#93; %&#125;x")


@pytest.mark.parametrize(("files", "code"), [
    ({"runbooks/оrders-db.yaml": "title: Cyrillic o\nsteps: [{name: S, manual: m}]\n"}, "OB022"),
    ({"runbooks/r.yaml": "id: оrders-db\ntitle: Cyrillic o\nsteps: [{name: S, manual: m}]\n"}, "OB010"),
    ({"runbooks/r.yaml": "title: R\nrelated: [../../etc/passwd]\nsteps: [{name: S, manual: m}]\n"}, "OB010"),
    ({"runbooks/r.yaml": "title: R\nowner: ../x\nsteps: [{name: S, manual: m}]\n"}, "OB010"),
])
def test_lookalike_and_path_ids_are_refused(make_handbook: Callable[..., Path], files: dict, code: str) -> None:
    assert code in {d.code for d in analyse(make_handbook(files)).diagnostics}


def test_alert_names_cannot_escape_the_site(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"ops/alerts/a.yml": "groups:\n  - name: g\n    rules:\n"
                                              "      - {alert: '../../../etc/passwd', expr: up == 0}\n"
                                              "      - {alert: 'a/b\\\\c:d', expr: up == 0}\n"})
    uris = [p.uri for p in analyse(root).pages() if p.uri.startswith("alerts/") and "index" not in p.uri]
    assert all(".." not in uri and uri.startswith("alerts/") and "\\" not in uri for uri in uris), uris
    assert len({uri for uri in uris if not uri.startswith("alerts/groups/")}) == 2


@pytest.mark.parametrize(("name", "content"), [
    ("big.yaml", b"title: " + b"x" * (50 * 1024 * 1024) + b"\n"),
    ("binary.yaml", bytes(range(256)) * 2000),
    ("deep.yaml", b"a: " + b"[" * 200_000),
    ("invalid.yaml", b"title: \xff\xfe\x00\x00"),
    ("dup.yaml", b"title: a\ntitle: b\nsteps: [{name: s, manual: m}]\n"),
    ("bomb.yaml", ("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 25))).encode()),
    ("json-deep.yaml", b"[" * 50_000 + b"]" * 50_000),
    ("json-dup.yaml", b'{"title": "a", "title": "b"}'),
])
def test_oversized_and_broken_files(make_handbook: Callable[..., Path], name: str, content: bytes) -> None:
    root = make_handbook({f"runbooks/{name}": content})
    started = time.perf_counter()
    diagnostics = analyse(root).diagnostics
    assert time.perf_counter() - started < 5
    assert diagnostics and all(d.path == f"runbooks/{name}" for d in diagnostics)
    assert {d.code for d in diagnostics} & {"OB001", "OB002", "OB003", "OB004", "OB005"}


def test_receiver_names_cannot_write_outside_the_site(make_handbook: Callable[..., Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from opsbook.cli import main

    root = make_handbook({"ops/alertmanager.yml": "route: {receiver: '../../../../escaped'}\n"
                                                  "receivers: [{name: '../../../../escaped'}]\n"})
    uris = [p.uri for p in analyse(root).pages()]
    assert all(".." not in uri for uri in uris), uris
    out = tmp_path / "deep" / "out"
    assert CliRunner().invoke(main, ["build", str(root), "--out", str(out)]).exit_code == 0
    assert not list(tmp_path.rglob("escaped*.md")) or all(out in p.parents for p in tmp_path.rglob("escaped*.md"))


def test_merge_key_bomb_is_refused_quickly() -> None:
    from opsbook.loader import load_yaml_text

    lines = ["a0: &a0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}"]
    for level in range(1, 12):
        merges = ", ".join(f"*a{level - 1}" for _ in range(10))
        lines.append(f"a{level}: &a{level} {{<<: [{merges}], x{level}: 1}}")
    started = time.perf_counter()
    _, problems = load_yaml_text("merge.yaml", "\n".join(lines))
    assert time.perf_counter() - started < 3
    assert [p.code for p in problems] == ["OB005"]


def test_matcher_regular_expressions_run_in_linear_time(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"ops/alertmanager.yml": "route:\n  receiver: a\n  routes:\n"
                                                  "    - {matchers: ['team=~\"(a|aa)+\"'], receiver: a}\n"
                                                  "receivers: [{name: a}]\n",
                          "ops/routing-tests.yaml": "tests:\n  - labels: {team: " + "a" * 60 + "b}\n"
                                                    "    receivers: [a]\n"})
    started = time.perf_counter()
    analyse(root)
    assert time.perf_counter() - started < 3


def test_a_source_folder_linked_outside_is_not_read(make_handbook: Callable[..., Path], tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.yaml").write_text("title: Secret\nsteps: [{name: S, manual: m}]\n", encoding="utf-8")
    root = make_handbook({})
    (root / "runbooks").symlink_to(outside)
    analysis = analyse(root)
    assert [(d.code, d.path) for d in analysis.diagnostics] == [("OB006", "runbooks")]
    assert analysis.handbook.all("runbook") == []


def test_setext_and_rule_lines_in_text_do_not_make_headings() -> None:
    import markdown

    from opsbook.render.markdown import md_block

    html = markdown.markdown(str(md_block("Fake heading\n---\n\nAnother\n===\n\n***\n___")))
    assert "<h1" not in html and "<h2" not in html and "<hr" not in html
