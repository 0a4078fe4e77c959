"""The decision-policy section of the HTML report: risk-coverage and cost curves, operating point.

:func:`decision_section` returns a :class:`ReportSection` (``title`` and trusted ``html``) that
:func:`confide.report.render_html` accepts in ``extra_sections``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import as_float_array, as_label_array
from confide.exceptions import ShapeError
from confide.report._svg import BLUE, GREY, PURPLE, RED, Chart, escape_text, nice_upper

__all__ = ["ReportSection", "decision_curves", "decision_section"]

_W = 440


@dataclass(frozen=True)
class ReportSection:
    """A titled block of trusted HTML for ``render_html(extra_sections=[...])``."""

    title: str
    html: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "html": self.html}


@dataclass(frozen=True, eq=False)
class DecisionCurves:
    """One point per distinct confidence (decreasing thresholds): coverage, risk, cost per item."""

    thresholds: np.ndarray
    coverage: np.ndarray
    risk: np.ndarray
    cost: np.ndarray

    def to_dict(self) -> dict[str, list[float]]:
        """Lists of floats."""
        return {
            k: getattr(self, k).astype(float).tolist()
            for k in ("thresholds", "coverage", "risk", "cost")
        }


def decision_curves(
    correct: Any, confidence: Any, *, cost_error: float = 1.0, cost_review: float = 0.1
) -> DecisionCurves:
    """Accept ``confidence >= t`` for every distinct ``t``: coverage, error among accepted, cost.

    ``cost(t) = (cost_error * errors_accepted(t) + cost_review * n_review(t)) / n``.
    """
    c = as_float_array(confidence, "confidence", ndim=1).astype(np.float64)
    wrong = as_label_array(correct, "correct") == 0
    if wrong.shape != c.shape:
        raise ShapeError(f"correct and confidence differ in length ({wrong.size} != {c.size}).")
    order = np.argsort(-c, kind="stable")
    s, w = c[order], wrong[order]
    last = np.flatnonzero(np.append(s[1:] != s[:-1], True))  # end of each tie group
    n_acc = (last + 1).astype(np.float64)
    n_err = np.cumsum(w, dtype=np.float64)[last]
    n = float(c.size)
    cost = (cost_error * n_err + cost_review * (n - n_acc)) / n
    return DecisionCurves(s[last], n_acc / n, n_err / n_acc, cost)


def _num(v: float, digits: int = 4) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}g}"


def decision_section(
    correct: Any,
    confidence: Any,
    *,
    threshold: float,
    max_error: float | None = None,
    error_upper_bound: float | None = None,
    cost_error: float = 1.0,
    cost_review: float = 0.1,
    title: str = "Decision policy",
    note: str = "",
) -> ReportSection:
    """Risk-coverage and cost curves of the rule ``accept when confidence >= t``, with the policy's
    operating point ``threshold`` marked (and the target ``max_error`` as a reference line).

    Parameters
    ----------
    correct, confidence : arrays of shape (n,)
        Whether each prediction was right, and its confidence (for a three-way policy, the accept
        side: ``correct = (y == 1)``, ``confidence = P(y = 1)``).
    threshold : float
        The policy's accept threshold.
    max_error, error_upper_bound : float, optional
        The certified target and the bound at the operating point, quoted in the caption.
    cost_error, cost_review : float
        Costs of an accepted error and of one review, for the cost curve.
    title, note : str
        Section title; an extra sentence for the caption.
    """
    curves = decision_curves(correct, confidence, cost_error=cost_error, cost_review=cost_review)
    c = np.asarray(confidence, dtype=np.float64)
    wrong = as_label_array(correct, "correct") == 0
    acc = c >= threshold
    cov = float(acc.mean())
    risk = float(wrong[acc].mean()) if acc.any() else math.nan
    cost = (cost_error * float((wrong & acc).sum()) + cost_review * float((~acc).sum())) / c.size
    top = nice_upper(max(float(np.nanmax(curves.risk)), max_error or 0.0, 1e-3), 5)
    rc = Chart(
        chart_id="policy-risk-coverage",
        title="Risk-coverage curve with the operating point",
        description=(
            "Error among accepted items against the fraction accepted, for every threshold; "
            f"the policy accepts {cov:.1%} with error {_num(risk)}."
        ),
        x_label="coverage (fraction auto-accepted)",
        y_label="error among accepted",
        y_range=(0.0, top),
        width=_W,
        height=400,
    )
    rc.line(curves.coverage, curves.risk, label="error among accepted", color=BLUE)
    if max_error is not None:
        rc.hline(max_error, label=f"target {_num(max_error)}", color=RED)
    rc.point(cov, risk, label="operating point", annotation=f"t = {_num(threshold)}")
    ctop = nice_upper(max(float(curves.cost.max()), cost, 1e-3), 5)
    cc = Chart(
        chart_id="policy-cost",
        title="Expected cost per item",
        description=(
            f"Cost per item (error {cost_error:g}, review {cost_review:g}) against coverage; "
            f"the policy's cost is {_num(cost)}."
        ),
        x_label="coverage (fraction auto-accepted)",
        y_label="expected cost per item",
        y_range=(0.0, ctop),
        width=_W,
        height=400,
    )
    cc.line(curves.coverage, curves.cost, label="cost per item", color=PURPLE)
    best = int(np.argmin(curves.cost))
    cc.point(
        float(curves.coverage[best]), float(curves.cost[best]), label="lowest cost", color=GREY
    )
    cc.point(cov, cost, label="operating point", annotation=f"t = {_num(threshold)}")
    caption = (
        f"Accepting confidence >= {_num(threshold)} auto-accepts {cov:.1%} of the "
        f"{c.size:,} items with an error of {_num(risk)} among them"
    )
    if max_error is not None:
        caption += f" (target {_num(max_error)}"
        if error_upper_bound is not None:
            caption += f", certified upper bound {_num(error_upper_bound)}"
        caption += ")"
    caption += (
        f"; expected cost {_num(cost)} per item (an error costs {cost_error:g}, a review "
        f"{cost_review:g}); the lowest cost on these data, {_num(float(curves.cost[best]))}, is "
        f"at coverage {curves.coverage[best]:.1%}, without a guarantee."
    )
    if note:
        caption += " " + note
    html = (
        f'<div class="pair"><figure>{rc.to_svg(standalone=False)}</figure>'
        f"<figure>{cc.to_svg(standalone=False)}</figure></div>"
        f"<p>{escape_text(caption)}</p>"
    )
    return ReportSection(title=title, html=html)
