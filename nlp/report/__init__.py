"""The report: build its content (pure), render HTML/Markdown (pure), write the files (atomic)."""

from nlp.report.build import build_report, stage_name
from nlp.report.render import render_alerts_markdown, render_html, render_markdown
from nlp.report.write import write_report_files

__all__ = ["build_report", "render_alerts_markdown", "render_html", "render_markdown", "stage_name",
           "write_report_files"]
