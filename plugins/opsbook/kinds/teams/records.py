"""The team kind: who owns things, where to reach them, and which receivers page them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...model import Kind, Record, Ref

__all__ = ["KIND", "Team"]


@dataclass
class Team(Record):
    """A team."""

    kind: ClassVar[str] = "team"
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "name", "description", "channel", "receivers", "oncall",
                                         "last_reviewed", "review_every")

    @property
    def title(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name.strip() else self.id

    @property
    def channel(self) -> str | None:
        value = self.data.get("channel")
        return value if isinstance(value, str) else None

    @property
    def receivers(self) -> list[str]:
        value = self.data.get("receivers")
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    @property
    def oncall(self) -> dict[str, Any]:
        value = self.data.get("oncall")
        return value if isinstance(value, dict) else {}


KIND = Kind(
    name="team",
    page_folder="teams",
    record_type=Team,
    folders=("ops/teams", "teams"),
    schema="team",
    refs=(Ref("receivers", "receiver", many=True, label="Teams"),),
)
