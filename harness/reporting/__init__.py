"""Reporting: the run's facts from the event log, and their views (HTML section, terminal lines). No pytest here."""
from harness.reporting.facts import build, outcomes, write
from harness.reporting.html import render
from harness.reporting.terminal import terminal_lines

__all__ = ["build", "outcomes", "render", "terminal_lines", "write"]
