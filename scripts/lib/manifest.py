"""The manifests of backup.sh, read and checked for backup.sh and restore.sh (run with python3, not imported).

  manifest.py show BACKUP_DIR NAME      the checked fields of NAME.json, one a line: file, format, sha256, tables
  manifest.py list BACKUP_DIR PREFIX    every backup, newest first: name, size, created, created as epoch, manifest
                                        (then, if a manifest is corrupt, an error naming it)
  manifest.py orphans BACKUP_DIR PREFIX files a backup left unfinished: a .partial, or a backup without manifest

A manifest that cannot be read, or whose fields are missing or wrong, is an error (exit status 1, one line on
the standard error naming it), never skipped: skipping the newest would make `latest` mean an older backup.
A manifest's `file` must be a plain name inside BACKUP_DIR, and not a symbolic link.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import sys
import time

FORMATS = {"sqlite": ".db", "pg_dump-custom": ".dump"}
STAMP = r"\d{8}T\d{6}Z(?:-(\d+))?"


class Corrupt(Exception):
    pass


def read(directory: str, name: str) -> dict:
    path = os.path.join(directory, name + ".json")
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise Corrupt(f"cannot read the manifest {path}: {error}") from None
    if not isinstance(manifest, dict):
        raise Corrupt(f"the manifest {path} is not a JSON object")
    missing = [k for k in ("name", "file", "format", "sha256", "size", "created", "tables") if k not in manifest]
    if missing:
        raise Corrupt(f"the manifest {path} lacks {', '.join(missing)}")
    if manifest["name"] != name:
        raise Corrupt(f"the manifest {path} names another backup: {manifest['name']!r}")
    if manifest["format"] not in FORMATS:
        raise Corrupt(f"the manifest {path} has an unknown format: {manifest['format']!r}")
    file = manifest["file"]
    if not isinstance(file, str) or not file or "/" in file or "\\" in file or "\0" in file or file in (".", ".."):
        raise Corrupt(f"the manifest {path} names a file outside the backup folder: {file!r}")
    if os.path.islink(os.path.join(directory, file)):
        raise Corrupt(f"the manifest {path} names {file}, which is a symbolic link; a backup file must be a plain file")
    if not isinstance(manifest["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", manifest["sha256"]):
        raise Corrupt(f"the manifest {path} has no valid sha256")
    if not isinstance(manifest["size"], int) or isinstance(manifest["size"], bool) or manifest["size"] < 0:
        raise Corrupt(f"the manifest {path} has no valid size")
    try:
        manifest["epoch"] = calendar.timegm(time.strptime(str(manifest["created"]), "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise Corrupt(f"the manifest {path} has no valid time of creation: {manifest['created']!r}") from None
    tables = manifest["tables"]
    if not isinstance(tables, dict) or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                                               for k, v in tables.items()):
        raise Corrupt(f"the manifest {path} has no valid row counts (tables)")
    return manifest


def names(directory: str, prefix: str, pattern: str) -> list[tuple[str, re.Match[str]]]:
    if not os.path.isdir(directory):
        return []
    expression = re.compile(re.escape(prefix) + "-" + pattern)
    return [(entry, match) for entry in sorted(os.listdir(directory)) if (match := expression.fullmatch(entry))]


def backups(directory: str, prefix: str) -> tuple[list[dict], list[Corrupt]]:
    found, corrupt = [], []
    for entry, match in names(directory, prefix, STAMP + r"\.json"):
        try:
            manifest = read(directory, entry.removesuffix(".json"))
        except Corrupt as error:
            corrupt.append(error)
            continue
        manifest["sequence"] = int(match.group(1) or 1)
        manifest["path"] = os.path.join(directory, entry)
        found.append(manifest)
    return sorted(found, key=lambda m: (m["epoch"], m["sequence"]), reverse=True), corrupt


def orphans(directory: str, prefix: str) -> list[str]:
    left = []
    for entry, _ in names(directory, prefix, STAMP + r"(?:\.(?:db|dump|json)\.partial|\.(?:db|dump))"):
        stem = re.sub(r"\.(db|dump|json)(\.partial)?$", "", entry)
        if entry.endswith(".partial") or not os.path.exists(os.path.join(directory, stem + ".json")):
            left.append(os.path.join(directory, entry))
    return left


def main(action: str, directory: str, argument: str) -> None:
    if action == "show":
        manifest = read(directory, argument)
        print(manifest["file"], manifest["format"], manifest["sha256"], json.dumps(manifest["tables"], sort_keys=True),
              sep="\n")
    elif action == "list":  # the readable ones are listed, then each corrupt one is an error
        found, corrupt = backups(directory, argument)
        for m in found:
            print(m["name"], m["size"], m["created"], m["epoch"], m["path"], sep="\t")
        if corrupt:
            raise Corrupt("; ".join(str(error) for error in corrupt))
    elif action == "orphans":
        for path in orphans(directory, argument):
            print(path)


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except Corrupt as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
