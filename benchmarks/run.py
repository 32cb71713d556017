"""One benchmark run: opsbook against plain MkDocs and against peer validators, side by side.

    python benchmarks/run.py --size small          # about a minute
    python benchmarks/run.py --size reference      # 2,000 runbooks, 10,000 alerts, 200 workflows, 200 components
    python benchmarks/run.py --size reference --scales 1,2,4 --repeat 3

For each scale it prints, as medians of `--repeat` runs, with ratios:
  a) `mkdocs build` of the opsbook handbook against a plain build of the same pages pre-rendered;
  b) `opsbook check` against `check-jsonschema` on the same files with the same schemas, and against
     `promtool check rules` on the rule files when promtool is installed;
  c) the peak memory (maximum resident set) of each;
  d) how the times grow from scale to scale;
  e) the rebuild `mkdocs serve` makes after one runbook is edited;
  f) how soon hostile input is answered (alias and merge-key bombs, oversized, deep and broken files,
     a backtracking-prone matcher, a step past its timeout): benchmarks/hostile.py, once per run, whatever
     the size. The tests assert bounded work on the same input; the time targets are here.
A benchmark, not a test: it prints figures and judges them against the targets; nothing fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {"small": (100, 500, 10, 20), "reference": (2000, 10000, 200, 200)}
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def measure(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB) of one run of a command."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
               "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n")
    result = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=cwd, capture_output=True, text=True,
                            env=ENV, check=True)
    seconds, memory, code = result.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with status {code}")
    return float(seconds), int(memory)


def median_of(command: list[str], cwd: Path, repeat: int) -> tuple[float, int]:
    runs = [measure(command, cwd) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


REBUILD = """
import sys, time
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config
site, edited = sys.argv[1], Path(sys.argv[2])
build(load_config(site_dir=site))                  # the first build of `mkdocs serve`
edited.write_text(edited.read_text(encoding="utf-8").replace("Recover", "Recover again", 1), encoding="utf-8")
start = time.perf_counter()
build(load_config(site_dir=site))                  # the rebuild after one edit, in the same process
print(time.perf_counter() - start)
"""


def rebuild(root: Path, edited: Path, site: Path) -> float:
    """Seconds of the rebuild `mkdocs serve` makes after one file changed (same process, warm)."""
    result = subprocess.run([sys.executable, "-c", REBUILD, str(site), str(edited)], cwd=root, capture_output=True,
                            text=True, env=ENV, check=True)
    return float(result.stdout.split()[-1])


def check_jsonschema_commands(root: Path) -> list[list[str]]:
    """check-jsonschema on the same files opsbook validates, each kind with its schema."""
    schemas = root / "schemas"
    if not schemas.exists():
        shutil.copytree(HERE.parent / "plugins" / "opsbook" / "schemas", schemas)
    commands = []
    for kind, folder, pattern in (("runbook", "runbooks", "*.yaml"), ("component", "components", "*.yaml"),
                                  ("team", "teams", "*.yaml"), ("backup", "backups", "*.yaml"),
                                  ("environment", "ops/environments", "*.yaml")):
        files = sorted(str(p) for p in (root / folder).glob(pattern))
        if files:
            commands.append([sys.executable, "-m", "check_jsonschema", "--schemafile",
                             str(schemas / f"{kind}.schema.json"), *files])
    workflows = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.yml"))
    if workflows:
        commands.append([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                         *workflows])
    return commands


def run_scale(scale: int, size: tuple[int, int, int, int], repeat: int, work: Path) -> dict[str, float]:
    runbooks, alerts, workflows, components = (value * scale for value in size)
    out = work / f"x{scale}"
    subprocess.run([sys.executable, str(HERE / "make_handbook.py"), "--runbooks", str(runbooks), "--alerts",
                    str(alerts), "--workflows", str(workflows), "--components", str(components), "--out", str(out)],
                   check=True, env=ENV, stdout=subprocess.DEVNULL)
    opsbook_root, plain_root = out / "opsbook", out / "plain"
    figures: dict[str, float] = {}
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--site-dir"]
    figures["build_opsbook"], figures["build_opsbook_mem"] = median_of([*mkdocs, str(out / "site-o")],
                                                                       opsbook_root, repeat)
    figures["build_plain"], figures["build_plain_mem"] = median_of([*mkdocs, str(out / "site-p")], plain_root, repeat)
    figures["check_opsbook"], figures["check_opsbook_mem"] = median_of(
        [sys.executable, "-m", "opsbook", "check", "--format", "json"], opsbook_root, repeat)
    total = memory = 0.0
    for command in check_jsonschema_commands(opsbook_root):
        seconds, peak = median_of(command, opsbook_root, repeat)
        total += seconds
        memory = max(memory, peak)
    figures["check_jsonschema"], figures["check_jsonschema_mem"] = total, memory
    promtool = shutil.which("promtool")
    if promtool:
        rules = sorted(str(p) for p in (opsbook_root / "ops" / "alerts").glob("*.yml"))
        figures["promtool"], figures["promtool_mem"] = median_of([promtool, "check", "rules", "--lint=none", *rules],
                                                                 opsbook_root, repeat)
    figures["pages"] = sum(1 for _ in (out / "site-p").rglob("index.html"))
    figures["rebuild_opsbook"] = rebuild(opsbook_root, opsbook_root / "runbooks" / "rb-0000.yaml", out / "serve-o")
    figures["rebuild_plain"] = rebuild(plain_root, plain_root / "docs" / "runbooks" / "rb-0000.md", out / "serve-p")
    return figures


def report(scale: int, figures: dict[str, float]) -> list[str]:
    def ratio(a: str, b: str) -> str:
        return f"{figures[a] / figures[b]:.2f}x" if figures.get(b) else "n/a"

    lines = [f"scale {scale}x ({int(figures['pages']):,} pages)",
             f"  a) mkdocs build   opsbook {figures['build_opsbook']:7.2f} s   plain {figures['build_plain']:7.2f} s"
             f"   ratio {ratio('build_opsbook', 'build_plain')}  (target <= 1.25x)",
             f"  b) check          opsbook {figures['check_opsbook']:7.2f} s   check-jsonschema "
             f"{figures['check_jsonschema']:7.2f} s   speed-up "
             f"{figures['check_jsonschema'] / figures['check_opsbook']:.1f}x  (targets: <= 2 s, >= 5x)"]
    lines.append(f"  e) serve rebuild  opsbook {figures['rebuild_opsbook']:7.2f} s   plain {figures['rebuild_plain']:7.2f} s"
                 f"   ratio {ratio('rebuild_opsbook', 'rebuild_plain')}  (target <= 1.25x)")
    if "promtool" in figures:
        lines.append(f"     promtool check rules {figures['promtool']:7.2f} s   opsbook/promtool "
                     f"{ratio('check_opsbook', 'promtool')}")
    lines.append(f"  c) peak memory    opsbook build {figures['build_opsbook_mem'] / 1024:7.0f} MiB   plain build "
                 f"{figures['build_plain_mem'] / 1024:7.0f} MiB   ratio {ratio('build_opsbook_mem', 'build_plain_mem')}"
                 f"  (target <= 1.5x);  opsbook check {figures['check_opsbook_mem'] / 1024:.0f} MiB, "
                 f"check-jsonschema {figures['check_jsonschema_mem'] / 1024:.0f} MiB")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--scales", default="1", help="comma-separated multiples of the size, e.g. 1,2,4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="opsbook-bench-") as folder:
        for scale in scales:
            started = time.perf_counter()
            results[scale] = run_scale(scale, SIZES[args.size], args.repeat, Path(folder))
            for line in report(scale, results[scale]):
                print(line, flush=True)
            print(f"  (scale measured in {time.perf_counter() - started:.0f} s)", flush=True)
    if len(scales) > 1:
        base = scales[0]
        for scale in scales[1:]:
            for key, label in (("build_opsbook", "opsbook build"), ("build_plain", "plain build"),
                               ("check_opsbook", "opsbook check")):
                growth = results[scale][key] / results[base][key]
                print(f"  d) {label}: {scale // base}x the size costs {growth:.2f}x the time (target <= 4.5x at 4x)")
    hostile = run_hostile(args.repeat)
    if args.json:
        figures: dict[str, object] = {str(k): v for k, v in results.items()}
        figures["hostile"] = hostile
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


def run_hostile(repeat: int) -> list[dict[str, object]]:
    """benchmarks/hostile.py in a process of its own: it prints its lines; its figures are returned."""
    with tempfile.TemporaryDirectory(prefix="opsbook-bench-hostile-") as folder:
        figures = Path(folder) / "hostile.json"
        subprocess.run([sys.executable, str(HERE / "hostile.py"), "--repeat", str(repeat), "--json", str(figures)],
                       check=True, env=ENV)
        return json.loads(figures.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
