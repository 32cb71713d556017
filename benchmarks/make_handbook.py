"""Writes a synthetic handbook of a chosen size, and the same content as plain Markdown pages.

    python benchmarks/make_handbook.py --runbooks 2000 --alerts 10000 --workflows 200 --components 200 \\
        --seed 1 --out /tmp/bench

`OUT/opsbook/` is a valid handbook (every reference resolves, realistic text lengths, its own
mkdocs.yml with a small navigation of index pages). `OUT/plain/` holds the same pages pre-rendered by
`opsbook build --out` in `OUT/plain/docs/`, with the mkdocs.yml it writes (the same theme, plugins and
navigation, and no opsbook): the baseline a team would have without it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

WORDS = ("orders payments queue database replica latency errors restart deploy rollback backup restore cache "
         "worker customer invoice shipping inventory search session token certificate disk memory cpu network "
         "timeout connection pool region zone traffic storage snapshot index schema migration release").split()
SEVERITIES = ("critical", "high", "medium", "low")
MKDOCS = """site_name: Synthetic handbook
theme:
  name: material
  font: false
plugins:
  - search
{plugin}markdown_extensions:
  - admonition
  - tables
  - toc
  - pymdownx.superfences
nav:
  - Home: index.md
  - Runbooks: runbooks/index.md
  - Alerts: alerts/index.md
  - Architecture: architecture/components/index.md
  - CI/CD: cicd/workflows/index.md
"""
PLUGIN = """  - opsbook:
      today: "2026-11-26"
      shellcheck: false
"""


def sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    return (" ".join(chosen)).capitalize() + "."


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make(out: Path, runbooks: int, alerts: int, workflows: int, components: int, seed: int) -> None:
    rng = random.Random(seed)
    root = out / "opsbook"
    if out.exists():
        shutil.rmtree(out)
    teams = [f"team-{i:02d}" for i in range(max(2, components // 20))]
    for team in teams:
        write(root / "teams" / f"{team}.yaml", json.dumps({
            "name": f"Team {team[5:]}", "channel": f"#{team}",
            "receivers": [f"{team}-pager", f"{team}-chat"] + (["default"] if team == teams[0] else []),
            "oncall": {"rotation": sentence(rng, 10), "escalation": ["primary", "secondary", "lead"]}}))
    component_ids = [f"svc-{i:04d}" for i in range(components)]
    for index, cid in enumerate(component_ids):
        sort = "datastore" if index % 5 == 4 else "service"
        data: dict = {"name": f"Service {index}", "kind": sort, "owner": teams[index % len(teams)],
                      "description": sentence(rng, 25), "rto": "1h", "rpo": "1h" if sort == "datastore" else "15m"}
        if index > 2:
            data["depends_on"] = [{"component": component_ids[j], "protocol": "HTTPS", "purpose": sentence(rng, 6)}
                                  for j in sorted(rng.sample(range(index), 2))]
        if sort == "datastore":
            data["data"] = {"classification": "internal", "retention": "1y",
                            "encryption": {"at_rest": True, "in_transit": True}}
            write(root / "backups" / f"{cid}.yaml", json.dumps({
                "datastore": cid, "schedule": "5 * * * *", "retention": {"count": 720, "age": "30d"},
                "restore_runbook": "rb-0000"}))
        write(root / "components" / f"{cid}.yaml", json.dumps(data))
    write(root / "drills" / "restore.yaml", json.dumps({"runbook": "rb-0000", "date": "2026-11-01", "outcome": "pass"}))
    alert_names = [f"Synthetic{i:05d}Firing" for i in range(alerts)]
    per_runbook: dict[int, list[str]] = {}
    for index, name in enumerate(alert_names):
        per_runbook.setdefault(index % runbooks, []).append(name)
    for index in range(runbooks):
        rid = f"rb-{index:04d}"
        steps = [{"name": f"Check the {rng.choice(WORDS)} health", "run": f"echo checking {index}",
                  "expect": {"exit_code": 0, "timeout": "30s"}},
                 {"name": "Tell the incident channel", "manual": sentence(rng, 20)},
                 {"name": f"Restart the {rng.choice(WORDS)} service", "run": "true",
                  "ci": {"skip": "needs production"}},
                 {"name": f"Drain the {rng.choice(WORDS)} queue", "run": f"printf '%s\\n' {index}"},
                 {"name": "Record what happened", "manual": sentence(rng, 15)}]
        write(root / "runbooks" / f"{rid}.yaml", json.dumps({
            "title": f"Recover {rng.choice(WORDS)} {rng.choice(WORDS)} number {index}", "summary": sentence(rng, 30),
            "owner": teams[index % len(teams)], "service": component_ids[index % len(component_ids)],
            "severity": SEVERITIES[index % 4], "alerts": per_runbook.get(index, []),
            "symptoms": [sentence(rng, 6), sentence(rng, 8)],
            "related": [f"rb-{(index + 1) % runbooks:04d}", f"rb-{(index + 7) % runbooks:04d}"],
            "last_reviewed": "2026-11-01", "review_every": "180d", "steps": steps,
            "verify": [{"name": "Check the error rate", "manual": sentence(rng, 12)}]}))
    for start in range(0, alerts, 500):
        groups = []
        for group_start in range(start, min(start + 500, alerts), 50):
            rules = []
            for index in range(group_start, min(group_start + 50, alerts)):
                team = teams[(index % runbooks) % len(teams)]
                rules.append({"alert": alert_names[index],
                              "expr": f'rate(http_requests_total{{job="{component_ids[index % len(component_ids)]}",'
                                      f'code=~"5.."}}[5m]) / rate(http_requests_total[5m]) > 0.0{1 + index % 9}',
                              "for": "5m", "labels": {"severity": "critical" if index % 10 == 0 else "warning",
                                                     "team": team},
                              "annotations": {"summary": sentence(rng, 12),
                                              "runbook_url": f"runbooks/rb-{index % runbooks:04d}/"}})
            groups.append({"name": f"group-{group_start}", "rules": rules})
        write(root / "ops" / "alerts" / f"rules-{start:05d}.yml", json.dumps({"groups": groups}))
    routes = []
    for team in teams:
        routes.append({"matchers": [f'team="{team}"', 'severity="critical"'], "receiver": f"{team}-pager",
                       "continue": True})
        routes.append({"matchers": [f'team="{team}"'], "receiver": f"{team}-chat"})
    receivers = [{"name": "default", "webhook_configs": [{"url": "http://127.0.0.1:9/"}]}]
    for team in teams:
        receivers += [{"name": f"{team}-pager", "webhook_configs": [{"url": "http://127.0.0.1:9/p"}]},
                      {"name": f"{team}-chat", "webhook_configs": [{"url": "http://127.0.0.1:9/c"}]}]
    write(root / "ops" / "alertmanager.yml", json.dumps({"route": {"receiver": "default", "routes": routes},
                                                         "receivers": receivers}))
    write(root / "scripts" / "deploy.sh", "#!/bin/sh\necho deploy\n")
    for env in ("staging", "production"):
        write(root / "ops" / "environments" / f"{env}.yaml", json.dumps({
            "url": f"https://{env}.example.com", "approval": "required", "secrets": ["DEPLOY_KEY"],
            "deployed_by": ".github/workflows/wf-0000.yml", "rollback_runbook": "rb-0001"}))
    for index in range(workflows):
        jobs = {"build": {"runs-on": "ubuntu-latest", "steps": [{"uses": "actions/checkout@v4"}, {"run": "make build"}]},
                "test": {"needs": "build", "runs-on": "ubuntu-latest", "steps": [{"run": "make test"}]}}
        if index == 0:
            for env in ("staging", "production"):
                jobs[f"deploy-{env}"] = {"needs": ["test"], "runs-on": "ubuntu-latest", "environment": env,
                                         "steps": [{"run": "scripts/deploy.sh",
                                                    "env": {"KEY": "${{ secrets.DEPLOY_KEY }}"}}]}
        write(root / ".github" / "workflows" / f"wf-{index:04d}.yml", json.dumps({
            "name": f"Workflow {index}", "on": {"push": {"branches": ["main"]}, "pull_request": None},
            "permissions": {"contents": "read"}, "jobs": jobs}))
    write(root / "docs" / "index.md", "# Synthetic handbook\n\nGenerated by benchmarks/make_handbook.py.\n")
    write(root / "mkdocs.yml", MKDOCS.format(plugin=PLUGIN))
    plain = out / "plain"
    built = subprocess.run([sys.executable, "-m", "opsbook", "build", str(root), "--out", str(plain)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"the synthetic handbook does not pass opsbook: {built.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runbooks", type=int, default=2000)
    parser.add_argument("--alerts", type=int, default=10000)
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    make(args.out, args.runbooks, args.alerts, args.workflows, args.components, args.seed)
    print(f"wrote {args.out}/opsbook and {args.out}/plain")


if __name__ == "__main__":
    main()
