"""Mutants whose bodies are well-formed one by one but break invariants of the resource."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.selftest.mutants.base import mutant, on_created

FIXED_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "bctrl-mutant/duplicate-ids"))


@mutant("duplicate-ids", catches="unique_ids", description="every runtime gets the same id")
def duplicate_ids(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d.__setitem__("id", FIXED_ID))(app)


@mutant("updated-before-created", catches="invariants", description="updatedAt is a day before createdAt")
def updated_before_created(app):  # type: ignore[no-untyped-def]
    def change(data: dict) -> None:
        created = datetime.fromisoformat(data["createdAt"].replace("Z", "+00:00"))
        data["updatedAt"] = (created - timedelta(days=1)).isoformat().replace("+00:00", "Z")

    return on_created(change)(app)


@mutant("created-at-not-a-timestamp", catches="invariants",
        description="createdAt is 'today' (the schema says only 'string'; the field name says when)")
def created_at_not_a_timestamp(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d.__setitem__("createdAt", "today"))(app)
