"""The team kind: who owns things, where to reach them, and which receivers page them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...model import Kind, MappingField, Record, Ref, TextField, TextListField

__all__ = ["KIND", "Team"]


@dataclass
class Team(Record):
    """A team."""

    kind: ClassVar[str] = "team"
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "name", "description", "channel", "timezone", "receivers",
                                         "oncall", "last_reviewed", "review_every")

    TITLE_FIELDS: ClassVar[tuple[str, ...]] = ("name",)

    channel = TextField()
    timezone = TextField()
    receivers = TextListField()
    oncall = MappingField()


KIND = Kind(
    name="team",
    page_folder="teams",
    record_type=Team,
    folders=("ops/teams", "teams"),
    schema="team",
    refs=(Ref("receivers", "receiver", many=True, label="Teams"),),
)
