"""Show confidence: a self-contained HTML report and matplotlib reliability diagrams.

* :func:`render_html` / :func:`write_html`: one HTML page (inline CSS and SVG, no script, no
  external resource) with the data summary, the metrics table, the reliability diagram with
  its confidence histogram, the ROC and risk-coverage curves and any extra sections.
* :class:`ReliabilityDisplay` and :func:`save_reliability_png`: matplotlib figures in
  scikit-learn's Display style; they need the ``plot`` extra (``pip install 'confide[plot]'``),
  imported only when drawing.
"""

from confide.report._display import ReliabilityDisplay, save_reliability_png
from confide.report._html import render_html, write_html

__all__ = ["ReliabilityDisplay", "render_html", "save_reliability_png", "write_html"]
