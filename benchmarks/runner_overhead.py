"""Benchmark: the runner's overhead per step against the same commands in a plain bash loop.

    python benchmarks/runner_overhead.py [--steps 200] [--repeat 5]

Both sides start one bash per command (the runner must: each step is its own session); the
difference is what opsbook adds: the launcher (one per run, in a PID namespace where the machine
allows; `OPSBOOK_NO_NAMESPACES=1` measures the subreaper instead), handing it each step and ending
what the step started, reading the output, the expectations, masking and bookkeeping. Target: at
most 15 ms per step. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins"))

from opsbook import analyse  # noqa: E402
from opsbook.config import Config  # noqa: E402
from opsbook.kinds.runbooks.runner import RunOptions, run_runbook  # noqa: E402

COMMANDS = ["true", "echo hello", "printf '%s\\n' \"$GREETING\"", "test -d ."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "runbooks").mkdir()
        lines = ["title: Benchmark", "inputs: {GREETING: {default: hi, ci: hello}}", "steps:"]
        for index in range(args.steps):
            command = COMMANDS[index % len(COMMANDS)]
            lines.append(f"  - name: Step {index}\n    run: '{command.replace(chr(39), chr(39) * 2)}'\n"
                         "    expect: {exit_code: 0, stdout: '.*', timeout: 10s}")
        (root / "runbooks" / "bench.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        runbook = analyse(root, Config(root=root, shellcheck=False)).handbook.get("runbook", "bench")
        script = root / "loop.sh"
        script.write_text("export GREETING=hello\n" + "\n".join(
            f"bash --noprofile --norc -eo pipefail -c {subprocess.list2cmdline([COMMANDS[i % len(COMMANDS)]])} "
            ">/dev/null" for i in range(args.steps)) + "\n", encoding="utf-8")
        runner_times, loop_times = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = run_runbook(runbook, RunOptions(root=root))
            runner_times.append(time.perf_counter() - started)
            assert result.passed, [s.problems for s in result.steps if not s.ok]
            started = time.perf_counter()
            subprocess.run(["bash", str(script)], check=True, cwd=root)
            loop_times.append(time.perf_counter() - started)
    runner, loop = statistics.median(runner_times), statistics.median(loop_times)
    per_step = (runner - loop) / args.steps * 1000
    print(f"steps: {args.steps}, repeats: {args.repeat} (medians)")
    print(f"opsbook runner:  {runner:.3f} s  ({runner / args.steps * 1000:.2f} ms per step)")
    print(f"plain bash loop: {loop:.3f} s  ({loop / args.steps * 1000:.2f} ms per step)")
    print(f"overhead:        {per_step:.2f} ms per step (target: at most 15 ms) -> "
          f"{'met' if per_step <= 15 else 'NOT met'}")


if __name__ == "__main__":
    main()
