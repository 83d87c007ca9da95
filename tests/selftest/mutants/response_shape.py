"""Mutants that break the shape of the 200 body (caught by response_schema)."""
from __future__ import annotations

from tests.selftest.mutants.base import mutant, on_created


@mutant("status-outside-enum", catches="response_schema", description="status 'running' is not in the status enum")
def status_outside_enum(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d.__setitem__("status", "running"))(app)


@mutant("missing-required-field", catches="response_schema", description="the 200 body has no createdAt")
def missing_required_field(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d.pop("createdAt", None))(app)


@mutant("non-uuid-id", catches="response_schema", description="ids look like 'rt_1a2b3c' instead of uuids")
def non_uuid_id(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d.__setitem__("id", "rt_" + d["id"].replace("-", "")[:12]))(app)


@mutant("missing-nullable-field", catches="response_schema",
        description="activeRunId is left out when null (required, and nullable: null must be sent)")
def missing_nullable_field(app):  # type: ignore[no-untyped-def]
    def change(data: dict) -> None:
        if data.get("activeRunId") is None:
            data.pop("activeRunId", None)

    return on_created(change)(app)


@mutant("wrong-type-deep-in-config", catches="response_schema",
        description="config.fingerprint.viewport.width is a string ('1920'), not an integer")
def wrong_type_deep(app):  # type: ignore[no-untyped-def]
    def change(data: dict) -> None:
        viewport = data["config"]["fingerprint"]["viewport"]
        viewport["width"] = str(viewport["width"])

    return on_created(change)(app)


@mutant("date-time-not-one", catches="response_schema",
        description="config.lifecycle.lastActivityAt (format: date-time) is 'just now'")
def date_time_not_one(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d["config"]["lifecycle"].__setitem__("lastActivityAt", "just now"))(app)
