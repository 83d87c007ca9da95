"""Recording: redaction (once, on write), exchange texts and curl lines, the event log in a declared format."""
from harness.recording.events import KINDS, EventWriter, finding_record, read_events, reset
from harness.recording.redact import MASK, REDACTOR, Redactor
from harness.recording.shared_ids import FileIdIndex

__all__ = ["KINDS", "MASK", "REDACTOR", "EventWriter", "FileIdIndex", "Redactor", "finding_record", "read_events", "reset"]
