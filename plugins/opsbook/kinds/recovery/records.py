"""Architecture and recovery kinds: components, backup policies and drill records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...durations import parse_date, parse_duration
from ...model import Kind, MappingField, Record, Ref, TextField

__all__ = ["Backup", "Component", "Drill", "BACKUP_KIND", "COMPONENT_KIND", "DRILL_KIND", "COMPONENT_KINDS"]

#: The sorts of component, in the order the overview lists them.
COMPONENT_KINDS = ("frontend", "service", "queue", "datastore", "external")


@dataclass
class Component(Record):
    """A component of the system."""

    kind: ClassVar[str] = "component"
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "name", "kind", "owner", "description", "tier", "depends_on", "rto",
                                         "rpo", "data", "last_reviewed", "review_every")

    owner = TextField(blank=False)
    rto = TextField(blank=False)
    rpo = TextField(blank=False)
    data_protection = MappingField("data")

    TITLE_FIELDS: ClassVar[tuple[str, ...]] = ("name",)

    @property
    def sort(self) -> str:
        return TextField.of(self.data, "kind") or "service"

    @property
    def depends_on(self) -> list[dict[str, Any]]:
        value = self.data.get("depends_on")
        return [item for item in value if isinstance(item, dict) and isinstance(item.get("component"), str)] \
            if isinstance(value, list) else []

    @property
    def classification(self) -> str | None:
        return TextField.of(self.data_protection, "classification")

    @property
    def holds_pii(self) -> bool:
        return self.classification == "pii"


@dataclass
class Backup(Record):
    """A backup policy."""

    kind: ClassVar[str] = "backup"
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "datastore", "schedule", "retention", "script", "verify_runbook",
                                         "restore_runbook", "owner", "last_reviewed", "review_every")

    schedule = TextField(blank=False)
    retention = MappingField()


@dataclass
class Drill(Record):
    """A drill: a runbook run by people on purpose."""

    kind: ClassVar[str] = "drill"
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "runbook", "date", "outcome", "duration", "team", "notes")

    @property
    def title(self) -> str:
        return f"Drill of {self.data.get('runbook', '?')} on {self.data.get('date', '?')}"

    @property
    def day(self) -> Any:
        return parse_date(self.data.get("date"))

    outcome = TextField(blank=False)

    @property
    def seconds(self) -> float | None:
        return parse_duration(self.data.get("duration"))


COMPONENT_KIND = Kind(
    name="component",
    page_folder="architecture/components",
    record_type=Component,
    folders=("ops/components", "components"),
    schema="component",
    refs=(Ref("owner", "team", label="Components owned"),
          Ref("depends_on", "component", many=True, label="Used by", item_key="component"),
          Ref("data.deletion_runbook", "runbook", label="Deletion runbook of")),
)
BACKUP_KIND = Kind(
    name="backup",
    page_folder="recovery/backups",
    record_type=Backup,
    folders=("ops/backups", "backups"),
    schema="backup",
    refs=(Ref("datastore", "component", label="Backups"),
          Ref("verify_runbook", "runbook", label="Verifies backups of"),
          Ref("restore_runbook", "runbook", label="Restores backups of"),
          Ref("owner", "team", label="Backup policies owned")),
)
DRILL_KIND = Kind(
    name="drill",
    page_folder="recovery/drills",
    record_type=Drill,
    folders=("ops/drills", "drills"),
    schema="drill",
    refs=(Ref("runbook", "runbook", label="Drills"), Ref("team", "team", label="Drills run")),
)
