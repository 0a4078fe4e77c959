"""Show confidence: a self-contained HTML report and matplotlib reliability diagrams.

* :func:`render_html` / :func:`write_html`: one HTML page (inline CSS and SVG, no script, no
  external resource) with the data summary, the metrics table, the reliability diagram with
  its confidence histogram, the ROC and risk-coverage curves and any extra sections.
* :class:`ReliabilityDisplay` and :func:`save_reliability_png`: matplotlib figures in
  scikit-learn's Display style; they need the ``plot`` extra (``pip install 'confide[plot]'``),
  imported only when drawing.
"""

from confide.report._decision import ReportSection, decision_section
from confide.report._display import ReliabilityDisplay, save_reliability_png
from confide.report._html import render_html, write_html
from confide.report._timeline import timeline_section, write_monitor_report

__all__ = [
    "ReliabilityDisplay",
    "ReportSection",
    "decision_section",
    "render_html",
    "save_reliability_png",
    "timeline_section",
    "write_html",
    "write_monitor_report",
]
