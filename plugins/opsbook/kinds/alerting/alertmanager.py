"""The Alertmanager configuration, read as it is: its routing tree and its receivers.

One configuration file (`ops/alertmanager.yml` by default) becomes an `alertmanager` record holding
the routing tree, and one `receiver` record per receiver, so that teams, alerts and pages can name
receivers like any other record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import yaml

from ...diagnostics import Code, Diagnostic, Severity, make
from ...loader import Document
from ...model import Kind, MappingListField, Record
from .notify import Simulator
from .routing import RoutingTree, integrations_of, scalar_text

__all__ = ["AlertmanagerConfig", "Receiver", "ALERTMANAGER_KIND", "RECEIVER_KIND", "as_written", "written_text"]

OB320 = Code("OB320", Severity.ERROR, "Invalid Alertmanager configuration",
         "The Alertmanager configuration has a problem Alertmanager would refuse, or that makes routing "
         "ambiguous: an unknown top-level field, a route naming an undefined receiver, a receiver defined "
         "twice, a matcher Alertmanager cannot parse, or matchers on the root route; a time interval "
         "Alertmanager cannot read (a bad time range, weekday, day of the month, month, year or "
         "`location`), one defined twice, or a route naming an interval that is not defined; a bad "
         "`group_by`, `group_wait`, `group_interval` or `repeat_interval`; an inhibition rule with a "
         "matcher or an `equal` label Alertmanager refuses.",
         failing="# ops/alertmanager.yml\n"
                 "route:\n"
                 "  receiver: fallback\n"
                 "  routes:\n"
                 "    - matchers: [team=\"data\"]\n"
                 "      receiver: data-pager\n"
                 "    - matchers: [severity=\"critical]\n"
                 "      receiver: data-pager\n",
         passing="# ops/alertmanager.yml\n"
                 "route:\n"
                 "  receiver: fallback\n"
                 "  routes:\n"
                 "    - matchers: [team=\"data\"]\n"
                 "      receiver: data-pager\n"
                 "    - matchers: [severity=\"critical\"]\n"
                 "      receiver: data-pager\n")

_TOP_LEVEL = {"global", "route", "receivers", "inhibit_rules", "templates", "time_intervals",
              "mute_time_intervals", "tracing"}


@dataclass
class AlertmanagerConfig(Record):
    """An Alertmanager configuration and its routing tree."""

    kind: ClassVar[str] = "alertmanager"

    tree: RoutingTree | None = field(default=None, repr=False)
    #: The configuration read once for simulations (`notify.Simulator`): time intervals, inhibition rules.
    simulator: Simulator | None = field(default=None, repr=False)

    @property
    def title(self) -> str:
        return f"Alertmanager routing ({self.path})"

    @property
    def time_intervals(self) -> list[str]:
        """The names of the time intervals, as Alertmanager reads them (`2027` as written, not a number)."""
        return [name for name in self.simulator.intervals if name] if self.simulator else []

    inhibit_rules = MappingListField()


@dataclass
class Receiver(Record):
    """A receiver of an Alertmanager configuration."""

    kind: ClassVar[str] = "receiver"

    index: int = 0

    def _prefix(self) -> tuple[str | int, ...]:
        return ("receivers", self.index)

    @property
    def title(self) -> str:
        return self.id

    @property
    def integrations(self) -> list[str]:
        return integrations_of(self.data)

    @property
    def is_null(self) -> bool:
        """A receiver with no integration: alerts routed to it notify nobody."""
        return not self.integrations


def as_written(document: Document, path: tuple[str | int, ...]) -> str | None:
    """The scalar at `path` as it is written, as Alertmanager's YAML library reads it into a string
    (PyYAML reads `17:00` as the number 1020, `1.10` as 1.1, `on` as True); None for null or where there
    is no scalar. Every reading of the configuration passes it as `text` (`notify.Simulator`)."""
    node = document.node_at(path)
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
        return str(node.value)
    return None


def written_text(document: Document, path: tuple[str | int, ...], value: object) -> str:
    """A label value or a receiver name of a routing test or scenario, read as it is written (`1.10` is
    `1.10`, `on` is `on`), as the configuration it is compared with is read (`as_written`); a value read
    from JSON, with no node to read, as its text (`true`/`false` for a boolean)."""
    written = None if document.lazy else as_written(document, path)
    if written is not None:
        return written
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def alertmanager_records(document: Document) -> Iterator[Record | Diagnostic]:
    data = document.data
    if data is None:
        return

    def problem(where: tuple[str | int, ...], message: str, key: bool = False) -> Diagnostic:
        line, column = document.position(where, key=key)
        return make(OB320, document.path, line, column, message)

    if not isinstance(data, dict):
        yield problem((), "an Alertmanager configuration must be a mapping")
        return
    for key in data:
        if key not in _TOP_LEVEL:
            yield problem((key,), f"unknown field '{key}' at the top of the Alertmanager configuration", key=True)
    def text(path: tuple[str | int, ...]) -> str | None:
        return as_written(document, path)

    simulator = Simulator(data, text=text)
    for found in simulator.problems:
        yield problem(found.path, found.message, key=found.key)
    stem = Path(document.path).name.rsplit(".", 1)[0]
    yield AlertmanagerConfig(stem if document.index == 0 else f"{stem}-{document.index + 1}", data, document,
                             tree=simulator.tree, simulator=simulator)
    seen: set[str] = set()
    declared = data.get("receivers")
    for index, receiver in enumerate(declared if isinstance(declared, list) else []):
        # The name as Alertmanager reads it, as the routes name it (`name: 2027` is "2027").
        given = receiver.get("name") if isinstance(receiver, dict) else None
        if isinstance(given, (dict, list)):
            continue
        name = scalar_text(given, ("receivers", index, "name"), text)
        if name and name not in seen:
            seen.add(name)
            yield Receiver(name, receiver, document, index=index)


ALERTMANAGER_KIND = Kind(
    name="alertmanager",
    page_folder="alerts/routing",
    record_type=AlertmanagerConfig,
    folders=("ops/alertmanager.yml", "ops/alertmanager.yaml", "alertmanager.yml", "alertmanager.yaml"),
    records_from=alertmanager_records,
)


RECEIVER_KIND = Kind(name="receiver", page_folder="alerts/receivers", record_type=Receiver, folders=(),)
