"""The environment kind: where a system is deployed, who approves, which secrets, which workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...model import Kind, Record, Ref, TextField, TextListField

__all__ = ["KIND", "Environment"]


@dataclass
class Environment(Record):
    """A deployment environment."""

    kind: ClassVar[str] = "environment"
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "name", "description", "url", "approval", "reviewers", "secrets",
                                         "deployed_by", "rollback_runbook", "owner", "last_reviewed", "review_every")

    TITLE_FIELDS: ClassVar[tuple[str, ...]] = ("name",)

    url = TextField()
    approval = TextField()
    secrets = TextListField()
    deployed_by = TextField()


KIND = Kind(
    name="environment",
    page_folder="cicd/environments",
    record_type=Environment,
    folders=("ops/environments", "environments"),
    schema="environment",
    refs=(Ref("rollback_runbook", "runbook", label="Rollback runbook of"),
          Ref("owner", "team", label="Environments owned")),
)
