"""confide: make a model's confidence score something a team can trust and act on.

The numerical core needs only NumPy and SciPy::

    from confide import metrics, scores
    metrics.ece(y_true, y_prob)                  # top-label ECE, 15 uniform bins
    metrics.calibration_report(y_true, y_prob)   # every metric, one frozen result

Heavier parts (file readers, plots, the CLI) are extras imported only where used.
"""

from confide._version import __version__

__all__ = ["__version__"]
