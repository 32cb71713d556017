"""Cron exactly as Debian's cron (#16): our parser and iterator against `cronsim`, which follows Debian's
cron, over random expressions (seeded; the seed is printed, OPSBOOK_CRON_SEED replays one).

Every expression either both refuse, or both give the same next runs from several starts. Deliberate
differences, all on the side of Debian's cron: cronsim's extensions `L`, `LW`, `W`, `#` and `?` are not
cron's and we refuse them (the test requires it); the macros (`@daily`...) are cron's and not cronsim's
(the test gives cronsim their five fields); cronsim gives up after 50 years without a run, we look over
the 400-year cycle (the test compares the runs cronsim found); cronsim reads a one-value range with a
step (`8-8/2`) as `8/2` (8, 10, 12), Debian's cron as the range it is (8), and so do we (the test gives
cronsim the value alone)."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cronsim import CronSim, CronSimError

from opsbook import analyse
from opsbook.cron import _MACROS, CronError, parse_cron

EXPRESSIONS = 10_000
CHUNKS = 8  # the chunks run in parallel
RUNS = 10
STARTS = (datetime(2026, 11, 30, 16, 7), datetime(2099, 12, 31, 23, 59, 30))  # a new century: no 29 Feb
SEED = int(os.environ.get("OPSBOOK_CRON_SEED") or random.SystemRandom().randrange(2**32))

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _value(rng: random.Random, low: int, high: int, names: list[str] | None, first: int) -> str:
    number = rng.randint(low, high)
    if names and rng.random() < 0.3 and number - first < len(names):
        name = names[number - first]
        return rng.choice([name, name.upper(), name.capitalize()])
    return str(number)


def _item(rng: random.Random, low: int, high: int, names: list[str] | None, first: int) -> str:
    shape = rng.random()
    if shape < 0.3:
        return _value(rng, low, high, names, first)
    if shape < 0.55:
        start, end = sorted(rng.randint(low, high) for _ in range(2))
        text = f"{_value(rng, start, start, names, first)}-{_value(rng, end, end, names, first)}"
        return text + (f"/{rng.randint(1, high - low + 2)}" if rng.random() < 0.4 else "")
    if shape < 0.75:
        return f"*/{rng.randint(1, high - low + 2)}"
    if shape < 0.85:
        return f"{_value(rng, low, high, names, first)}/{rng.randint(1, high)}"
    return "*"


def _field(rng: random.Random, low: int, high: int, names: list[str] | None = None, first: int = 0) -> str:
    if rng.random() < 0.35:
        return "*"
    items = [_item(rng, low, high, names, first) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    return ",".join(items)


def _sparse(rng: random.Random, low: int, high: int) -> str:
    """Minutes and hours: few values, so that the runs reach over days and months."""
    return rng.choice([str(rng.randint(low, high)), f"{rng.randint(low, high)},{rng.randint(low, high)}",
                       f"*/{rng.randint(1, high + 1)}", _field(rng, low, high)])


_BROKEN = ["61", "24", "0", "32", "13", "8", "5-1", "*/0", "*/", "/5", "1-", "-1", "x", "L", "LW", "15W", "5L",
           "1#2", "?", "1,", ",1", "1--2", "²", "*-5", "1/2/3", "mon", "jan", "sun-mon"]


def expression(rng: random.Random) -> str:
    if rng.random() < 0.02:
        return rng.choice(sorted(_MACROS)).upper() if rng.random() < 0.2 else rng.choice(sorted(_MACROS))
    fields = [_sparse(rng, 0, 59), _sparse(rng, 0, 23), _field(rng, 1, 31),
              _field(rng, 1, 12, _MONTHS, 1), _field(rng, 0, 7, _DAYS, 0)]
    if rng.random() < 0.05:  # something cron refuses, in any field
        fields[rng.randrange(5)] = rng.choice(_BROKEN)
    return " ".join(fields)


_NAMES = {name: number for names in (_MONTHS, _DAYS) for number, name in enumerate(names, start=names is _MONTHS)}
_ONE_VALUE_RANGE = re.compile(r"(?<![\w*])(\w+)-(\w+)/\d+")


def _for_cronsim(text: str) -> str:
    """What cronsim must be given to read `text` as Debian's cron does (macros, one-value ranges)."""
    text = _MACROS.get(text.lower(), text)

    def one(match: re.Match[str]) -> str:
        first, last = (_NAMES.get(part.lower(), part) for part in match.groups())
        return match.group(1) if str(first) == str(last) else match.group(0)

    return _ONE_VALUE_RANGE.sub(one, text)


def _cronsim_runs(text: str, start: datetime) -> list[datetime]:
    runs: list[datetime] = []
    for moment in CronSim(text, start):
        runs.append(moment)
        if len(runs) == RUNS:
            break
    return runs


def _compare(text: str, counts: dict[str, int]) -> str | None:
    """None when we agree with cronsim on `text`, else what differs."""
    theirs_text = _for_cronsim(text)
    unnamed = re.sub("|".join(_NAMES), "", theirs_text.lower())
    extension = any(mark in unnamed for mark in ("l", "w", "#", "?"))  # cronsim's, not cron's
    try:
        ours = parse_cron(text)
    except CronError as error:
        ours, refused = None, str(error)
    try:
        CronSim(theirs_text, STARTS[0])
    except CronSimError:
        theirs_ok = False
    else:
        theirs_ok = not extension
    if ours is None or not theirs_ok:
        counts["refused"] += 1
        if ours is None and not theirs_ok:
            return None
        return f"{text!r}: we {'refuse (' + refused + ')' if ours is None else 'accept'}, " \
               f"cronsim {'accepts' if theirs_ok else 'refuses'}"
    for start in STARTS:
        theirs = _cronsim_runs(theirs_text, start)
        mine = ours.next_runs(start, RUNS)
        counts["runs"] += len(theirs)
        if len(theirs) < RUNS:  # cronsim stops after 50 years without a run
            assert theirs[-1:] == [] or mine[len(theirs) - 1] == theirs[-1]
            if len(mine) > len(theirs) and (mine[len(theirs)] - max([start, *theirs])) < timedelta(days=366 * 49):
                return f"{text!r} from {start}: cronsim stops at {len(theirs)} runs, the next of ours is " \
                       f"{mine[len(theirs)]}"
        if mine[:len(theirs)] != theirs:
            at = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b) \
                if any(a != b for a, b in zip(mine, theirs, strict=False)) else min(len(mine), len(theirs))
            return f"{text!r} from {start}: run {at}: ours {mine[at:at + 1]}, cronsim's {theirs[at:at + 1]}"
    counts["agreed"] += 1
    return None


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_next_runs_agree_with_cronsim(chunk: int) -> None:
    print(f"seed {SEED} (OPSBOOK_CRON_SEED={SEED} replays it)")
    rng = random.Random(f"{SEED}-{chunk}")
    counts = {"refused": 0, "runs": 0, "agreed": 0}
    problems = [problem for _ in range(EXPRESSIONS // CHUNKS)
                if (problem := _compare(expression(rng), counts)) is not None]
    print(f"chunk {chunk}: {EXPRESSIONS // CHUNKS} expressions, {counts['agreed']} with the same runs, "
          f"{counts['refused']} refused, {counts['runs']} run times compared")
    assert not problems, f"seed {SEED}: {len(problems)} disagreements, e.g.\n" + "\n".join(problems[:10])


@pytest.mark.parametrize(("schedule", "first_runs"), [
    # A day field starting with `*` leaves the day to the other field: both must match (Debian's cron).
    ("0 0 */10 * 1", ["2026-12-21 00:00", "2027-01-11 00:00", "2027-02-01 00:00"]),
    ("0 0 1-31 * 1", ["2026-12-01 00:00", "2026-12-02 00:00", "2026-12-03 00:00"]),  # no `*`: either
    ("0 0 13 * fri", ["2026-12-04 00:00", "2026-12-11 00:00", "2026-12-13 00:00"]),
    ("0 0 * * */7", ["2026-12-06 00:00", "2026-12-13 00:00", "2026-12-20 00:00"]),   # `7` is Sunday
])
def test_day_fields_as_debian_reads_them(schedule: str, first_runs: list[str]) -> None:
    runs = parse_cron(schedule).next_runs(datetime(2026, 11, 30, 12, 0), 3)
    assert [run.strftime("%Y-%m-%d %H:%M") for run in runs] == first_runs


@pytest.mark.parametrize("schedule", ["0 12 31 4 *", "0 0 30 2 *", "0 0 30,31 2 */2", "0 0 31 4,6,9,11 *"])
def test_a_schedule_that_never_runs_is_refused(schedule: str) -> None:
    with pytest.raises(CronError, match="never runs"):
        parse_cron(schedule)
    with pytest.raises(CronSimError):
        CronSim(schedule, STARTS[0])


def test_february_29_runs() -> None:
    assert parse_cron("0 0 29 2 *").next_runs(datetime(2026, 11, 30), 2) == [datetime(2028, 2, 29),
                                                                            datetime(2032, 2, 29)]


@pytest.mark.parametrize("schedule", ["*/ * * * *", "² * * * *", "0 0 L * *", "0 0 LW * *", "0 0 15W * *",
                                      "0 0 * * 5L", "0 0 * * 1#2", "0 0 ? * *", "0 0 * * ?"])
def test_what_debian_cron_refuses_is_refused(schedule: str) -> None:
    """A step with no number and digits cron does not read; cronsim's extensions (not cron's)."""
    with pytest.raises(CronError):
        parse_cron(schedule)


def test_a_one_value_range_with_a_step_is_that_value() -> None:
    """`8-8/2` is the 8th alone in Debian's cron (cronsim reads it as `8/2`: the 8th, 10th, 12th...)."""
    assert parse_cron("0 0 8-8/2 * *").days == frozenset({8})


def test_a_backup_schedule_that_never_runs_is_ob600(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "teams/data.yaml": "name: Data\n",
        "components/db.yaml": "name: DB\nkind: datastore\nowner: data\nrpo: 24h\n",
        "backups/db.yaml": "datastore: db\nschedule: \"0 12 31 4 *\"\nretention: {count: 500}\n"
                           "restore_runbook: restore\n",
        "runbooks/restore.yaml": "title: Restore\nsteps: [{name: Restore, manual: Restore it.}]\n",
        "drills/d.yaml": "runbook: restore\ndate: 2026-10-01\noutcome: pass\n"})
    found = [(d.code, d.line, d.message) for d in analyse(root).diagnostics]
    assert found == [("OB600", 2, "schedule '0 12 31 4 *': it never runs: no month it allows (April) has a day 31")]
