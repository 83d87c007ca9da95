"""How the suite sends, records and judges: client, target, event log, verdicts."""
