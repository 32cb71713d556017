"""Hostile input, timed: how soon opsbook answers the files that would make a naive loader or checker hang.

    python benchmarks/hostile.py                  # a few seconds per repeat
    python benchmarks/hostile.py --repeat 5 --json hostile.json

The tests feed opsbook the same input and assert what cannot be flaky on a loaded machine: the diagnostic,
and bounded work (a file over the size limit is not opened, no document builds more than `max_nodes`
values, matchers use RE2, a timed-out step's processes are killed). The time targets the tests used to
assert live here, beside the other targets of the benchmark (benchmarks/run.py runs this too):

  tests/test_loader.py   an alias bomb (10**20 values) is refused within 2 s; so is a 10 MB file
  tests/test_hostile.py  each oversized or broken file is answered within 5 s; a merge-key bomb is
                         refused within 3 s; a backtracking-prone matcher is checked within 3 s
  tests/test_cli.py      `opsbook check` answers a handbook of such files within 2 s
  issue #15              `opsbook check` answers within 2 s a runbook of 50,000 unknown keys, a rule with a
                         17 KB expression of nested parentheses, and FIFOs and symlink loops among the
                         sources and the docs (tests/test_hostile.py asserts their bounded work)
  tests/test_runner.py   a step with a 2 s timeout is killed within 4 s, its run ends within 5 s;
                         `opsbook test` of a step that leaves a `setsid` daemon, with a 2 s timeout,
                         returns within 4 s (the daemon killed: the tests assert that)

A benchmark, not a test: it prints figures and judges them against the targets; nothing fails.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TODAY = "2026-11-26"


def _handbook(folder: Path, files: dict[str, str | bytes]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="hostile-", dir=folder))
    (root / "opsbook.yml").write_text(json.dumps({"today": TODAY}), encoding="utf-8")
    for relpath, content in files.items():
        file = root / relpath
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            file.write_bytes(content)
        else:
            file.write_text(content, encoding="utf-8")
    return root


def _alias_bomb(levels: int, quoted: bool = True) -> str:
    leaf = '"lol"' if quoted else "x"
    lines = [f"a0: &a0 [{','.join([leaf] * 10)}]"]
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _merge_bomb() -> str:
    lines = ["a0: &a0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}"]
    for level in range(1, 12):
        merges = ", ".join(f"*a{level - 1}" for _ in range(10))
        lines.append(f"a{level}: &a{level} {{<<: [{merges}], x{level}: 1}}")
    return "\n".join(lines)


BROKEN_FILES: dict[str, bytes] = {
    "big.yaml": b"title: " + b"x" * (50 * 1024 * 1024) + b"\n",
    "binary.yaml": bytes(range(256)) * 2000,
    "deep.yaml": b"a: " + b"[" * 200_000,
    "invalid.yaml": b"title: \xff\xfe\x00\x00",
    "dup.yaml": b"title: a\ntitle: b\nsteps: [{name: s, manual: m}]\n",
    "bomb.yaml": _alias_bomb(25, quoted=False).encode(),
    "json-deep.yaml": b"[" * 50_000 + b"]" * 50_000,
    "json-dup.yaml": b'{"title": "a", "title": "b"}',
}

HANG_STEP = """\
title: R
steps:
  - name: Hang
    run: |
      sleep 60 &
      bash -c 'sleep 60 & wait' &
      trap '' TERM
      sleep 60
    expect: {timeout: 2s}
cleanup: [{name: Clean, run: echo cleaned}]
"""

SETSID_STEP = """\
title: R
steps:
  - name: Daemon
    run: setsid sleep 60 & echo started; sleep 60
    expect: {timeout: 2s}
"""


def _timed(action: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def measure(repeat: int) -> list[dict[str, object]]:
    """One row per case: what, seconds (median of `repeat` runs), target seconds."""
    from click.testing import CliRunner

    from opsbook import analyse
    from opsbook.cli import main
    from opsbook.kinds.runbooks.runner import RunOptions, run_runbook
    from opsbook.loader import load_yaml_file, load_yaml_text
    from opsbook.model import forget_parsed
    from opsbook.pipeline import load_config

    rows: list[dict[str, object]] = []

    def row(name: str, what: str, seconds: float, target: float) -> None:
        rows.append({"name": name, "what": what, "seconds": round(seconds, 3), "target": target})

    def fresh(action: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            forget_parsed()  # parsed sources are kept between analyses of unchanged files: measure a first read
            return action()
        return run

    with tempfile.TemporaryDirectory(prefix="opsbook-hostile-") as name:
        folder = Path(name)
        bomb = _alias_bomb(20)
        row("alias_bomb", "alias bomb (10**20 values) refused by the loader",
            _timed(lambda: load_yaml_text("bomb.yaml", bomb), repeat), 2)
        big = folder / "big.yaml"
        big.write_bytes(b"k: " + b"x" * (10 * 1000 * 1000) + b"\n")
        row("big_file", "10 MB file refused by the loader", _timed(lambda: load_yaml_file(big, "big.yaml"), repeat), 2)
        merge = _merge_bomb()
        row("merge_bomb", "merge-key bomb refused by the loader",
            _timed(lambda: load_yaml_text("merge.yaml", merge), repeat), 3)

        slowest, slowest_name = 0.0, ""
        for file_name, content in BROKEN_FILES.items():
            root = _handbook(folder, {f"runbooks/{file_name}": content})
            seconds = _timed(fresh(functools.partial(analyse, root)), repeat)
            row(f"broken_{file_name}", f"check of a handbook with runbooks/{file_name}", seconds, 5)
            if seconds >= slowest:
                slowest, slowest_name = seconds, file_name

        matcher_root = _handbook(folder, {
            "ops/alertmanager.yml": "route:\n  receiver: a\n  routes:\n"
                                    "    - {matchers: ['team=~\"(a|aa)+\"'], receiver: a}\nreceivers: [{name: a}]\n",
            "ops/routing-tests.yaml": "tests:\n  - labels: {team: " + "a" * 60 + "b}\n    receivers: [a]\n"})
        row("matcher", "check with a matcher (a|aa)+ routing 60 a's and a b",
            _timed(fresh(lambda: analyse(matcher_root)), repeat), 3)

        # Issue #15: small files that hung or crashed. Each is asserted in bounded work by tests/test_hostile.py.
        keys_root = _handbook(folder, {"runbooks/r.yaml": "title: R\nsteps: [{name: S, manual: m}]\n"
                                                          + "".join(f"k{i:07d}: 1\n" for i in range(50_000))})
        row("unknown_keys", "`opsbook check` of a 0.65 MB runbook of 50,000 unknown keys (was over 120 s)",
            _timed(fresh(lambda: CliRunner().invoke(main, ["check", str(keys_root)])), repeat), 2)
        deep_root = _handbook(folder, {"ops/alerts/a.yml": "groups:\n  - name: g\n    rules:\n      - alert: A\n"
                                                           "        expr: '" + "(" * 8_500 + "up" + ")" * 8_500 + "'\n"})
        row("promql_nesting", "check of a 17 KB PromQL expression of nested parentheses (was 5-8 GB, SIGSEGV)",
            _timed(fresh(lambda: analyse(deep_root)), repeat), 2)
        special_root = _handbook(folder, {"runbooks/ok.yaml": "title: R\nsteps: [{name: S, manual: m}]\n",
                                          "docs/index.md": "# Home\n"})
        os.mkfifo(special_root / "runbooks" / "pipe.yaml")
        os.mkfifo(special_root / "docs" / "pipe.md")
        (special_root / "runbooks" / "a.yaml").symlink_to("b.yaml")
        (special_root / "runbooks" / "b.yaml").symlink_to("a.yaml")
        (special_root / "docs" / "all").symlink_to(".")
        row("special_files", "`opsbook check` with FIFOs and symlink loops in runbooks/ and docs/ (was a hang)",
            _timed(fresh(lambda: CliRunner().invoke(main, ["check", str(special_root)])), repeat), 2)

        cli_root = _handbook(folder, {
            "runbooks/huge.yaml": "title: x\nsummary: " + "y" * (10 * 1000 * 1000) + "\n",
            "runbooks/bomb.yaml": bomb,
            "runbooks/latin1.yaml": "title: caf\xe9\n".encode("latin-1"),
            "runbooks/xss.yaml": "title: <script>alert(1)</script>\nsteps: [{name: S, run: 'true'}]\n"})
        runner = CliRunner()
        row("cli_check", "`opsbook check` of a handbook with a 10 MB file, an alias bomb, Latin-1, markup",
            _timed(fresh(lambda: runner.invoke(main, ["check", "--format", "json", str(cli_root)])), repeat), 2)

        hang_root = _handbook(folder, {"runbooks/r.yaml": HANG_STEP})
        config, _ = load_config(hang_root)
        runbook = analyse(hang_root, config).handbook.get("runbook", "r")
        started = time.perf_counter()
        result = run_runbook(runbook, RunOptions(root=hang_root))  # type: ignore[arg-type]
        whole = time.perf_counter() - started
        # One run, whatever --repeat: it is the timeout's precision, and it costs 3 s.
        row("step_timeout", "step with a 2 s timeout (ignoring TERM) killed after (one run)",
            result.steps[0].duration, 4)
        row("step_timeout_run", "run of that runbook, cleanup included (one run)", whole, 5)

        # The case, end to end as CI runs it: a `setsid` daemon holds the step's output pipe.
        setsid_root = _handbook(folder, {"runbooks/r.yaml": SETSID_STEP})
        opsbook = str(Path(sys.executable).with_name("opsbook"))
        started = time.perf_counter()
        subprocess.run([opsbook, "test", "--dir", str(setsid_root), "--results", str(setsid_root / "results.json")],
                       capture_output=True, timeout=60, check=False)
        row("setsid_cli", "`opsbook test`, step leaving a setsid daemon, 2 s timeout: returns after (one run)",
            time.perf_counter() - started, 4)
    rows.append({"name": "broken_slowest", "what": f"slowest broken file: {slowest_name}", "seconds": slowest,
                 "target": 5})
    return rows


def report(rows: list[dict[str, object]]) -> list[str]:
    lines = ["  f) hostile input (median seconds; target: answered within)"]
    for entry in rows:
        if str(entry["name"]).startswith("broken_") and entry["name"] != "broken_slowest":
            continue  # one line for the eight files: the slowest
        seconds, target = float(entry["seconds"]), float(entry["target"])  # type: ignore[arg-type]
        verdict = "met" if seconds <= target else "NOT MET"
        lines.append(f"     {entry['what']:<84} {seconds:6.2f} s  (target <= {target:g} s) {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    rows = measure(args.repeat)
    for line in report(rows):
        print(line, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
