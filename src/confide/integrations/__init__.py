"""Bridges to other libraries; each submodule is imported explicitly and needs its extra.

* :mod:`confide.integrations.sklearn`: :class:`~confide.integrations.sklearn.CalibratedModel`,
  a scikit-learn classifier that calibrates any estimator with a confide calibrator
  (``pip install 'confide[sklearn]'``).

Importing this package imports no optional dependency.
"""

__all__: list[str] = []
