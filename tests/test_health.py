"""Handbook health: the dashboard's figures equal what the checks compute, `opsbook metrics` parses as
Prometheus text, placeholders and freshness are checked, and the monitoring setup validates."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from opsbook import analyse
from opsbook.cli import main
from opsbook.health.figures import compute_health

REPO = Path(__file__).parent.parent
SVG = "{http://www.w3.org/2000/svg}"
#: A run in a GitHub Actions job, and one on a workstation (the CI variables of the machine running the
#: tests removed: None unsets a variable for CliRunner).
IN_CI = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "example/ops",
         "GITHUB_RUN_ID": "12"}
ON_A_WORKSTATION: dict[str, str | None] = {"GITHUB_ACTIONS": None, "GITLAB_CI": None, "CI": None}

HANDBOOK = {
    "ops/alerts/a.yml": "groups:\n  - name: g\n    rules:\n"
                        "      - {alert: Down, expr: up == 0, labels: {severity: critical}}\n"
                        "      - {alert: Slow, expr: up == 2, labels: {severity: warning}}\n"
                        "      - {alert: Gone, expr: up == 3, labels: {severity: page}}\n",
    "runbooks/down.yaml": "title: Down\nalerts: [Down]\nlast_reviewed: 2020-01-01\nreview_every: 90d\n"
                          "steps: [{name: A, run: 'true'}, {name: B, run: 'false', ci: {skip: prod}}]\n",
    "runbooks/slow.yaml": "title: Slow\nalerts: [Slow]\nsteps: [{name: A, run: 'true'}, {name: B, manual: m}]\n",
}


def _metrics(text: str) -> dict[str, float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + "".join(f",{k}={v}" for k, v in sorted(sample.labels.items()))
            values[key] = sample.value
    return values


def test_dashboard_figures_equal_the_checks(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook(HANDBOOK)
    analysis = analyse(root)
    health = compute_health(analysis.handbook, analysis.diagnostics)
    codes = [d.code for d in analysis.diagnostics]
    assert codes.count("OB310") == 1  # Gone pages without a runbook
    assert (health.alerts, health.alerts_with_runbook) == (3, 2)
    assert (health.paging_alerts, health.paging_alerts_with_runbook) == (2, 2 - codes.count("OB310"))
    assert health.runbooks_overdue == codes.count("OB040") == 1
    assert health.diagnostics_by_code == {code: codes.count(code) for code in set(codes)}
    assert (health.verified_steps, health.runnable_steps) == (0, 2)
    # A run on a workstation passes every step, and verifies none of them in CI.
    assert CliRunner().invoke(main, ["test", "--dir", str(root)], env=ON_A_WORKSTATION).exit_code == 0
    analysis = analyse(root)
    assert compute_health(analysis.handbook, analysis.diagnostics).verified_steps == 0
    page = next(p.text for p in analysis.pages() if p.uri == "health.md")
    assert "| Runnable steps verified in CI | 0 of 2 (0\u00a0%) |" in page
    assert _metrics(CliRunner().invoke(main, ["metrics", str(root)]).output)["opsbook_verified_steps"] == 0
    # The same run in CI verifies them.
    assert CliRunner().invoke(main, ["test", "--dir", str(root)], env=IN_CI).exit_code == 0
    analysis = analyse(root)
    assert compute_health(analysis.handbook, analysis.diagnostics).verified_steps == 2
    assert _metrics(CliRunner().invoke(main, ["metrics", str(root)]).output)["opsbook_verified_steps"] == 2
    page = next(p.text for p in analysis.pages() if p.uri == "health.md")
    assert "| Alerts with a runbook | 2 of 3 (67\u00a0%) |" in page
    assert "| Runnable steps verified in CI | 2 of 2 (100\u00a0%) |" in page
    assert "<svg" in page and "<title>Coverage</title>" in page


def _charts(page: str) -> dict[str, list[dict[str, str | float]]]:
    """Each chart of a dashboard page, by its title: every bar as the SVG draws it (its figures, the length
    of its bar on its track, its colour and its text)."""
    charts = {}
    for svg_text in re.findall(r"<svg .*?</svg>", page, flags=re.S):
        svg = ElementTree.fromstring(svg_text)
        title = svg.findtext(f"{SVG}title")
        bars = []
        for group in svg.iter(f"{SVG}g"):
            rects = {rect.get("class"): rect for rect in group.iter(f"{SVG}rect")}
            texts = [text.text for text in group.iter(f"{SVG}text")]
            value = rects.get("value")
            bars.append({"label": group.get("data-label"), "value": float(group.get("data-value")),
                         "scale": float(group.get("data-scale")), "tone": group.get("data-tone"),
                         "drawn": float(value.get("width")) / float(rects["track"].get("width"))
                         if value is not None else None,
                         "fill": value.get("fill") if value is not None else None, "text": texts[-1]})
        charts[title] = bars
    return charts


def _rows(page: str, heading: str) -> dict[str, str]:
    """The first table after a heading: its first column → its second."""
    part = page.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return {cells[0]: cells[1] for cells in (
        [cell.strip() for cell in line.strip("|").split("|")] for line in part.splitlines() if line.startswith("| "))}


def test_dashboard_bars_equal_the_figures_of_its_tables(make_handbook: Callable[..., Path]) -> None:
    """Read back from the SVG: each bar is as long as its figure is on its scale, coloured by how bad it is,
    and says what the table beside it says; a figure with nothing to count draws no bar."""
    files = {**HANDBOOK,
             "ops/components/api.yaml": "name: API\nowner: data\nrto: 30m\nrpo: 5m\n",
             "ops/components/db.yaml": "name: DB\nowner: data\nrto: 2h\nrpo: 5m\n",
             "ops/incidents/i1.yaml": "title: Down\nseverity: critical\nstarted: '2026-10-03T14:02:00Z'\n"
                                     "resolved: '2026-10-03T14:43:00Z'\nservices: [api, db, web]\n",
             "ops/incidents/i2.yaml": "title: Down again\nseverity: critical\nstarted: '2026-10-04T10:00:00Z'\n"
                                     "resolved: '2026-10-04T12:21:00Z'\nservices: [db]\n"}
    root = make_handbook(files, shellcheck=False)
    analysis = analyse(root)
    page = next(p.text for p in analysis.pages() if p.uri == "health.md")
    charts = _charts(page)
    assert set(charts) == {"Coverage", "Diagnostics by code", "Mean time to resolve, by service"}
    tones = {"#2e7d32": "good", "#b26a00": "warn", "#c62828": "bad", "#1565c0": "neutral"}
    for bars in charts.values():
        for bar in bars:
            if bar["scale"]:
                assert bar["drawn"] == pytest.approx(bar["value"] / bar["scale"], abs=0.002), bar
                assert tones[bar["fill"]] == bar["tone"], bar
            else:
                assert bar["drawn"] is None and bar["text"] == "nothing to count", bar
    coverage = _rows(page, "Coverage")
    health = compute_health(analysis.handbook, analysis.diagnostics)
    for bar in charts["Coverage"]:
        assert coverage[bar["label"]] == bar["text"]
        if not bar["scale"]:
            continue
        part, whole = re.fullmatch(r"(\d+) of (\d+) \(\d+\u00a0%\)", bar["text"]).groups()
        assert (bar["value"], bar["scale"]) == (int(part), int(whole))
        assert bar["tone"] == ("good" if part == whole else "warn" if int(part) >= 0.8 * int(whole) else "bad")
    assert coverage["Alerts with a runbook"].startswith(f"{health.alerts_with_runbook} of {health.alerts} ")
    assert coverage["Runnable steps verified in CI"] == "0 of 2 (0\u00a0%)"
    assert coverage["DR runbooks drilled or verified"] == "nothing to count"  # no backup policy
    codes = {bar["label"]: bar for bar in charts["Diagnostics by code"]}
    assert {code: bar["value"] for code, bar in codes.items()} == health.diagnostics_by_code
    assert codes["OB310"]["tone"] == "bad" and codes["OB310"]["scale"] == max(health.diagnostics_by_code.values())
    resolve = {bar["label"]: bar for bar in charts["Mean time to resolve, by service"]}
    # api: 41 min against an RTO of 30 min; db: the mean of 41 min and 2 h 21 min; web: no such component.
    assert [(s, b["text"], b["tone"]) for s, b in resolve.items()] == [
        ("api", "41 min (RTO 30 min)", "bad"), ("db", "1 h 31 min (RTO 2 h)", "good"), ("web", "41 min", "neutral")]
    assert resolve["db"]["scale"] == resolve["db"]["value"] == 91 * 60
    table = _rows(page, "Time to resolve incidents")
    assert [value for value in table.values() if value != "Mean time to resolve"] == [b["text"] for b in
                                                                                     resolve.values()]


def test_an_empty_handbook_has_nothing_to_count(make_handbook: Callable[..., Path]) -> None:
    """0 of 0 is no bar and says so, not a full green one."""
    root = make_handbook({"docs/index.md": "# Home\n"})
    page = next(p.text for p in analyse(root).pages() if p.uri == "health.md")
    coverage = _charts(page)["Coverage"]
    assert [bar["text"] for bar in coverage] == ["nothing to count"] * 5
    assert all(bar["drawn"] is None and bar["tone"] == "none" for bar in coverage)
    assert "No diagnostics: every check passes" in page and "No incident with a start" in page
    headings = re.findall(r"^## (.+)$", page, flags=re.M)
    assert headings == ["Coverage", "Diagnostics", "Time to resolve incidents", "Records by kind"]


def test_metrics_parse_with_prometheus_client(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook(HANDBOOK)
    result = CliRunner().invoke(main, ["metrics", str(root)])
    assert result.exit_code == 0
    values = _metrics(result.output)
    analysis = analyse(root)
    health = compute_health(analysis.handbook, analysis.diagnostics)
    assert values["opsbook_alerts"] == health.alerts == 3
    assert values["opsbook_paging_alerts_with_runbook"] == health.paging_alerts_with_runbook
    assert values["opsbook_runbooks_overdue"] == 1
    assert values["opsbook_diagnostics,code=OB310,severity=error"] == 1
    assert values["opsbook_records,kind=runbook"] == 2
    out = root / "textfile" / "opsbook.prom"
    assert CliRunner().invoke(main, ["metrics", str(root), "--out", str(out)]).exit_code == 0
    assert _metrics(out.read_text()) == values


@pytest.mark.parametrize(("text", "expected"), [
    ("summary: TODO say when\n", [("OB070", 2, 10)]),
    ("summary: Lorem ipsum dolor\n", [("OB070", 2, 10)]),
    ("summary: nothing to do here\n", []),
    ("# TODO: a YAML comment is a note for maintainers\nsummary: fine\n", []),
])
def test_placeholders_in_sources(make_handbook: Callable[..., Path], text: str, expected: list) -> None:
    root = make_handbook({"runbooks/r.yaml": "title: R\n" + text + "steps: [{name: S, manual: m}]\n"})
    found = [(d.code, d.line, d.column) for d in analyse(root).diagnostics]
    if expected and text.startswith("#"):
        expected = [(c, line + 1, col) for c, line, col in expected]
    assert found == [(c, line + (1 if text.startswith("#") else 0), col) for c, line, col in expected]


def test_placeholders_in_pages_skip_code(make_handbook: Callable[..., Path]) -> None:
    page = "# Guide\n\nWrite `TODO` only in code.\n\n```yaml\nsummary: TODO\n```\n\nFIXME: the real one.\n"
    root = make_handbook({"docs/guide.md": page})
    assert [(d.code, d.path, d.line, d.column) for d in analyse(root).diagnostics] == [("OB070", "docs/guide.md", 9, 1)]


def test_freshness_of_pages_and_records(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "docs/fresh.md": "---\nowner: data\nlast_reviewed: 2026-11-20\nreview_every: 90d\n---\n# Fresh\n",
        "docs/stale.md": "---\nowner: data\nlast_reviewed: 2025-01-01\n---\n# Stale\n",
        "docs/bare.md": "# Nobody owns me\n",
        "docs/ghost.md": "---\nowner: ghosts\nlast_reviewed: 2026-11-20\n---\n# Ghost\n",
        "teams/data.yaml": "name: Data\nlast_reviewed: 2026-01-01\nreview_every: 30d\n",
        "teams/web.yaml": "name: Web\n",
    }, require_freshness=["team", "pages"])
    found = sorted((d.code, d.path, d.line) for d in analyse(root).diagnostics)
    # A team is its own owner: only its review date is required.
    assert found == [("OB021", "docs/ghost.md", 2), ("OB040", "docs/stale.md", 3), ("OB040", "teams/data.yaml", 2),
                     ("OB044", "docs/bare.md", 1), ("OB044", "teams/web.yaml", 1)]


def test_pages_show_who_owns_them_and_when_reviewed(fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("minimal")
    (root / "teams").mkdir()
    (root / "teams" / "team-web.yaml").write_text("name: Web team\n", encoding="utf-8")
    index = root / "docs" / "index.md"
    index.write_text("---\nowner: team-web\nlast_reviewed: 2026-11-16\n---\n" + index.read_text(encoding="utf-8"),
                     encoding="utf-8")
    import sys

    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=root, capture_output=True, text=True,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    assert built.returncode == 0, built.stderr
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert 'Owned by <a href="teams/team-web/">Web team</a>' in html
    assert "reviewed 2026-11-16 (10 days ago)" in html and "next review by 2027-05-15" in html


def test_lint_says_plainly_when_vale_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without Vale the lint fails, so a CI lint cannot pass without linting; --skip-if-missing skips it.
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["lint", str(REPO)])
    assert result.exit_code == 1 and "error: the vale program is not installed" in result.output
    assert "--skip-if-missing" in result.output
    result = CliRunner().invoke(main, ["lint", "--skip-if-missing", str(REPO)])
    assert result.exit_code == 0 and "skipped: the vale program is not installed" in result.output


@pytest.mark.skipif(not shutil.which("promtool") or not shutil.which("amtool"),
                    reason="promtool and amtool are not installed (Debian packages prometheus, prometheus-alertmanager)")
def test_setup_monitoring_renders_a_valid_configuration(tmp_path: Path) -> None:
    import sys

    env = {**os.environ, "OPSBOOK": f"{sys.executable} -m opsbook"}
    result = subprocess.run([str(REPO / "scripts" / "setup-monitoring.sh"), "--out", str(tmp_path / "mon")], cwd=REPO,
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rules = sorted(p.name for p in (tmp_path / "mon" / "rules").iterdir())
    assert "handbook.yml" in rules and "orders.yml" in rules
    assert "opsbook_runbooks " in (tmp_path / "mon" / "textfile" / "opsbook.prom").read_text()


def test_the_synthetic_handbook_passes_opsbook_check(tmp_path: Path) -> None:
    """The benchmark's generator writes a valid handbook (benchmarks are not tests: only this is)."""
    import sys

    made = subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_handbook.py"), "--runbooks", "40",
                           "--alerts", "120", "--workflows", "4", "--components", "10", "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    analysis = analyse(tmp_path / "b" / "opsbook")
    assert analysis.diagnostics == []
    assert len(analysis.handbook.all("runbook")) == 40 and len(analysis.handbook.loaded["alert"]) == 120
    assert (tmp_path / "b" / "plain" / "docs" / "runbooks" / "rb-0000.md").is_file()


SUITE = ["ARCHITECTURE", "DEVELOPER_HANDBOOK", "OPERATIONS_GUIDE", "API_DOCUMENTATION", "DEPLOYMENT_GUIDE",
         "TROUBLESHOOTING", "CI_CD_GUIDE", "MONITORING_GUIDE", "ALERTING_GUIDE", "DISASTER_RECOVERY",
         "BACKUP_STRATEGY", "DATA_PROTECTION"]


@pytest.mark.parametrize("name", SUITE)
def test_the_documentation_suite_page(name: str) -> None:
    """Each page of the suite: owned, reviewed, real prose, and at least one generated section that expands."""
    from opsbook.registry import make_renderer
    from opsbook.render.sections import directives, expand_sections

    file = REPO / "docs" / f"{name}.md"
    text = file.read_text(encoding="utf-8")
    assert text.startswith("---\nowner: ") and "last_reviewed:" in text.split("---")[1]
    prose = [line for line in text.splitlines() if line and not line.startswith(("#", "<!--", "|", "```", ":::"))]
    assert len(" ".join(prose).split()) > 250, "too little prose"
    assert list(directives(text)), "no generated section"
    analysis = analyse(REPO)
    expanded, problems = expand_sections(analysis.handbook, make_renderer(analysis.handbook, analysis.diagnostics),
                                         f"{name}.md", text, f"docs/{name}.md")
    assert problems == [] and "<!-- opsbook:" not in expanded.split("```")[0]
    assert len(expanded) > len(text)


@pytest.mark.parametrize("interval", ["9000y", "99999999999999999999y"])
def test_a_review_interval_past_the_end_of_the_calendar(make_handbook: Callable[..., Path], interval: str) -> None:
    """The due date is held to the calendar's end, not an overflow: no traceback, no diagnostic."""
    root = make_handbook({"runbooks/t.yaml": f"title: T\nlast_reviewed: 2026-11-01\nreview_every: {interval}\n"
                                             "steps: [{name: S, manual: m}]\n",
                          "docs/p.md": f"---\nlast_reviewed: 2026-11-01\nreview_every: {interval}\n---\n# P\n"},
                         shellcheck=False)
    analysis = analyse(root)
    assert [d for d in analysis.diagnostics if d.code.startswith("OB04")] == []
    assert any("next review by 9999-12-31" in page.text for page in analysis.pages())


def test_placeholders_beyond_ascii_are_judged_by_the_regex(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/t.yaml": "title: T\nsummary: FİXME — écrire la suite\nsteps: [{name: S, manual: m}]\n"},
                         shellcheck=False)
    assert [(d.code, d.line) for d in analyse(root).diagnostics] == [("OB070", 2)]


@pytest.mark.parametrize(("seconds", "words"), [
    (0, "under 1 min"), (29, "under 1 min"), (31, "1 min"), (2448, "41 min"), (3600, "1 h"), (3660, "1 h 1 min"),
    (86400, "1 day"), (86400 + 3 * 3600 + 20, "1 day 3 h"), (3 * 86400, "3 days")])
def test_a_measured_duration_in_words(seconds: float, words: str) -> None:
    from opsbook.durations import duration_in_words

    assert duration_in_words(seconds) == words
