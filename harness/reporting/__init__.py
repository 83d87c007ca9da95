"""Reporting: the run's facts from the event log, and their views (HTML section, terminal lines). No pytest here."""
from harness.reporting.facts import build, outcomes, verdict, write
from harness.reporting.html import render
from harness.reporting.terminal import terminal_lines
from harness.reporting.trend import compare, compare_with_file, read_summary, with_trend

__all__ = ["build", "compare", "compare_with_file", "outcomes", "read_summary", "render", "terminal_lines",
           "verdict", "with_trend", "write"]
