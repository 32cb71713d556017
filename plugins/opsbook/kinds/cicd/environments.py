"""The environment kind: where a system is deployed, who approves, which secrets, which workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...model import Kind, Record, Ref

__all__ = ["KIND", "Environment"]


@dataclass
class Environment(Record):
    """A deployment environment."""

    kind: ClassVar[str] = "environment"
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "name", "description", "url", "approval", "reviewers", "secrets",
                                         "deployed_by", "rollback_runbook", "owner", "last_reviewed", "review_every")

    @property
    def title(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name.strip() else self.id

    @property
    def url(self) -> str | None:
        value = self.data.get("url")
        return value if isinstance(value, str) else None

    @property
    def approval(self) -> str | None:
        value = self.data.get("approval")
        return value if isinstance(value, str) else None

    @property
    def secrets(self) -> list[str]:
        value = self.data.get("secrets")
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    @property
    def deployed_by(self) -> str | None:
        value = self.data.get("deployed_by")
        return value if isinstance(value, str) else None


KIND = Kind(
    name="environment",
    page_folder="cicd/environments",
    record_type=Environment,
    folders=("ops/environments", "environments"),
    schema="environment",
    refs=(Ref("rollback_runbook", "runbook", label="Rollback runbook of"),
          Ref("owner", "team", label="Environments owned")),
)
