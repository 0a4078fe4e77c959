r"""Out-of-distribution (OOD) scores: from outputs (MSP, max logit, energy) and from features.

**Convention: a higher score means more in-distribution.** Every score here follows it (the
energy score is the *negative* energy, the feature detectors return *minus* a distance), and
:func:`confide.monitor._ood_eval.evaluate_ood` treats in-distribution samples as positives.

Output-based scores need only the model's outputs; feature-based detectors are fitted on the
training set's penultimate-layer features:

* :class:`MahalanobisDetector` (Lee et al. 2018): class-conditional Gaussians with a shared
  covariance; the score is minus the smallest squared Mahalanobis distance to a class mean.
* :class:`KNNDetector` (Sun et al. 2022): minus the distance from the L2-normalised feature to
  its ``k``-th nearest L2-normalised training feature.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.spatial import cKDTree
from scipy.special import logsumexp

from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import (
    as_float_array,
    as_label_array,
    check_choice,
    check_consistent_length,
    check_positive_int,
    check_probabilities,
)
from confide.exceptions import ConfideTypeError, SchemaError, ShapeError, ValidationError
from confide.monitor._cbpe_run import NotFittedError

__all__ = [
    "KNNDetector",
    "MahalanobisDetector",
    "energy_score",
    "max_logit_score",
    "msp_score",
]

_BLOCK_ELEMENTS = 1 << 22  # bound on the temporaries of a blockwise product (32 MB of float64)


def _two_column_logits(z: np.ndarray) -> np.ndarray:
    return np.column_stack([np.zeros_like(z), z]) if z.ndim == 1 else z


def msp_score(probs: Any) -> np.ndarray:
    r"""Maximum softmax probability (Hendrycks & Gimpel 2017): :math:`\max_k p_k`.

    1-D ``P(y = 1)`` input gives ``max(p, 1 - p)``. Higher = more in-distribution.

    References
    ----------
    Hendrycks, D. and Gimpel, K. (2017). A baseline for detecting misclassified and
    out-of-distribution examples in neural networks. ICLR.
    """
    p = check_probabilities(probs, "probs").astype(np.float64, copy=False)
    return np.maximum(p, 1.0 - p) if p.ndim == 1 else p.max(axis=1)


def max_logit_score(logits: Any) -> np.ndarray:
    r"""Maximum logit (Hendrycks et al. 2022): :math:`\max_k z_k`; 1-D binary logits ``z`` are
    the two-class logits ``[0, z]``. Higher = more in-distribution.

    References
    ----------
    Hendrycks, D., Basart, S., Mazeika, M., et al. (2022). Scaling out-of-distribution detection
    for real-world settings. ICML.
    """
    z = as_float_array(logits, "logits", ndim=(1, 2)).astype(np.float64, copy=False)
    return _two_column_logits(z).max(axis=1)


def energy_score(logits: Any, *, temperature: float = 1.0) -> np.ndarray:
    r"""Negative free energy (Liu et al. 2020): :math:`T \log \sum_k e^{z_k / T}`.

    The energy is :math:`E(x) = -T \log\sum_k e^{z_k/T}`; this returns :math:`-E(x)`, so higher
    = more in-distribution. Computed with a stable log-sum-exp.

    References
    ----------
    Liu, W., Wang, X., Owens, J. D. and Li, Y. (2020). Energy-based out-of-distribution
    detection. NeurIPS.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise ValidationError(f"temperature must be a number > 0, got {temperature!r}.")
    t = float(temperature)
    if not (np.isfinite(t) and t > 0):
        raise ValidationError(f"temperature must be a finite number > 0, got {temperature!r}.")
    z = as_float_array(logits, "logits", ndim=(1, 2)).astype(np.float64, copy=False)
    return t * logsumexp(_two_column_logits(z) / t, axis=1)


def _features(x: Any, name: str, dim: int | None = None) -> np.ndarray:
    f = as_float_array(x, name, ndim=2).astype(np.float64, copy=False)
    if dim is not None and f.shape[1] != dim:
        raise ShapeError(
            f"{name} has {f.shape[1]} features; the detector was fitted on {dim}. Pass features "
            "from the same layer of the same model."
        )
    return f


def ledoit_wolf_shrinkage(xc: np.ndarray) -> float:
    r"""Ledoit-Wolf shrinkage intensity of the covariance of centred rows ``xc`` toward
    :math:`\mu I` (:math:`\mu = \mathrm{tr}\,S / d`, :math:`S = X^\top X / n`).

    .. math:: \lambda = \min(\beta, \delta)/\delta, \quad
        \delta = \big(\lVert S\rVert_F^2 - \mathrm{tr}(S)^2/d\big)/d, \quad
        \beta = \Big(\frac1n \sum_i \lVert x_i\rVert^4 - \lVert S\rVert_F^2\Big)\Big/ (d\,n)

    (scikit-learn's ``ledoit_wolf_shrinkage(X, assume_centered=True)``).

    References
    ----------
    Ledoit, O. and Wolf, M. (2004). A well-conditioned estimator for large-dimensional covariance
    matrices. J. Multivar. Anal. 88(2), 365-411.
    """
    n, d = xc.shape
    s = xc.T @ xc / n
    fro2 = float(np.sum(s * s))
    tr = float(np.trace(s))
    beta = (float(np.sum(np.einsum("ij,ij->i", xc, xc) ** 2)) / n - fro2) / (d * n)
    delta = (fro2 - tr * tr / d) / d
    beta = min(beta, delta)
    return 0.0 if beta <= 0 or delta <= 0 else beta / delta


class MahalanobisDetector:
    r"""Class-conditional Gaussians with a shared covariance (Lee et al. 2018).

    ``fit`` estimates the class means :math:`\mu_k` and the shared covariance
    :math:`\Sigma = \frac1n \sum_i (x_i - \mu_{y_i})(x_i - \mu_{y_i})^\top`, optionally shrunk,
    :math:`(1 - \lambda)\Sigma + \lambda \frac{\mathrm{tr}\Sigma}{d} I`; ``score`` returns

    .. math:: M(x) = -\min_k (x - \mu_k)^\top \Sigma^{-1} (x - \mu_k)

    (Lee et al.'s confidence score: minus the smallest *squared* distance; any monotone map of it
    ranks samples the same way). Higher = more in-distribution. The distances are computed by
    whitening with the Cholesky factor :math:`\Sigma = L L^\top` (triangular solves, no explicit
    inverse) in blocks of bounded memory. A covariance whose smallest eigenvalue is below
    ``d · eps`` times its largest is refused with a clear error: pass ``shrinkage``.

    Parameters
    ----------
    shrinkage : float in [0, 1] or "ledoit_wolf", default 0.0

    Attributes
    ----------
    classes_ : ndarray of the labels seen in ``fit``
    means_ : ndarray of shape (k, d)
    covariance_ : ndarray of shape (d, d)
        The (shrunk) shared covariance.
    shrinkage_ : float

    References
    ----------
    Lee, K., Lee, K., Lee, H. and Shin, J. (2018). A simple unified framework for detecting
    out-of-distribution samples and adversarial attacks. NeurIPS.
    """

    def __init__(self, *, shrinkage: float | str = 0.0) -> None:
        if isinstance(shrinkage, str):
            check_choice(shrinkage, "shrinkage", ("ledoit_wolf",))
        elif isinstance(shrinkage, bool) or not isinstance(shrinkage, int | float | np.floating):
            raise ConfideTypeError(
                f"shrinkage must be a number in [0, 1] or 'ledoit_wolf', got {shrinkage!r}."
            )
        elif not 0.0 <= float(shrinkage) <= 1.0:
            raise ValidationError(f"shrinkage must lie in [0, 1], got {shrinkage!r}.")
        self.shrinkage: float | str = shrinkage if isinstance(shrinkage, str) else float(shrinkage)

    def fit(self, features: Any, y: Any) -> Self:
        """Fit class means and the shared covariance on training ``features`` (n, d) and labels."""
        x = _features(features, "features")
        labels = as_label_array(y, "y")
        check_consistent_length(features=x, y=labels)
        n, d = x.shape
        classes, inverse = np.unique(labels, return_inverse=True)
        counts = np.bincount(inverse).astype(np.float64)
        means = np.zeros((classes.shape[0], d))
        np.add.at(means, inverse, x)
        means /= counts[:, None]
        xc = x - means[inverse]
        cov = xc.T @ xc / n
        lam = (
            ledoit_wolf_shrinkage(xc) if self.shrinkage == "ledoit_wolf" else float(self.shrinkage)
        )
        if lam > 0:
            cov = (1.0 - lam) * cov + lam * (np.trace(cov) / d) * np.eye(d)
        self._set_fitted(classes, means, cov, lam)
        return self

    def _set_fitted(
        self, classes: np.ndarray, means: np.ndarray, cov: np.ndarray, lam: float
    ) -> None:
        d = cov.shape[0]
        eig = np.linalg.eigvalsh(cov)
        if not (eig[-1] > 0 and eig[0] > d * np.finfo(np.float64).eps * eig[-1]):
            rank = int(np.sum(eig > d * np.finfo(np.float64).eps * max(eig[-1], 0.0)))
            raise ValidationError(
                f"the shared covariance of the training features is singular (numerical rank "
                f"{rank} of {d} features; smallest eigenvalue {eig[0]:.3g}, largest "
                f"{eig[-1]:.3g}), so Mahalanobis distances are undefined. Pass "
                "shrinkage='ledoit_wolf' (or a float in (0, 1]), use more training samples than "
                "features, or drop constant/duplicate features."
            )
        self.classes_ = classes
        self.means_ = means
        self.covariance_ = cov
        self.shrinkage_ = float(lam)
        self._chol = cholesky(cov, lower=True)
        self._white_means = solve_triangular(self._chol, means.T, lower=True).T

    def _require_fitted(self) -> None:
        if not hasattr(self, "means_"):
            raise NotFittedError(
                "this MahalanobisDetector is not fitted yet: call fit(features, y)."
            )

    def distances(self, features: Any) -> np.ndarray:
        """Squared Mahalanobis distance of every sample to every class mean, shape (n, k)."""
        self._require_fitted()
        x = _features(features, "features", self.means_.shape[1])
        m = self._white_means
        m2 = np.einsum("ij,ij->i", m, m)
        out = np.empty((x.shape[0], m.shape[0]))
        block = max(1, _BLOCK_ELEMENTS // max(x.shape[1], m.shape[0]))
        for start in range(0, x.shape[0], block):
            z = solve_triangular(self._chol, x[start : start + block].T, lower=True).T
            d2 = np.einsum("ij,ij->i", z, z)[:, None] - 2.0 * (z @ m.T) + m2[None, :]
            out[start : start + block] = np.maximum(d2, 0.0)
        return out

    def score(self, features: Any) -> np.ndarray:
        """``-min_k`` squared Mahalanobis distance (higher = more in-distribution)."""
        return -self.distances(features).min(axis=1)

    def to_dict(self) -> dict[str, Any]:
        """A versioned JSON document of the fitted means and covariance."""
        self._require_fitted()
        return to_document(
            "mahalanobis_detector",
            {
                "shrinkage": self.shrinkage,
                "shrinkage_value": self.shrinkage_,
                "classes": self.classes_.tolist(),
                "means": self.means_.tolist(),
                "covariance": self.covariance_.tolist(),
            },
        )

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> MahalanobisDetector:
        """Rebuild a fitted detector from :meth:`to_dict` output (schema, kind, checksum checked)."""
        return cls._from_payload(from_document(doc, "mahalanobis_detector"), "the document")

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], source: str) -> MahalanobisDetector:
        try:
            obj = cls(shrinkage=payload["shrinkage"])
            obj._set_fitted(
                np.asarray(payload["classes"]),
                np.asarray(payload["means"], dtype=np.float64),
                np.asarray(payload["covariance"], dtype=np.float64),
                float(payload["shrinkage_value"]),
            )
        except (KeyError, TypeError, ValueError, np.linalg.LinAlgError) as exc:
            raise SchemaError(f"{source} has malformed Mahalanobis parameters: {exc}") from None
        return obj

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON)."""
        return save_json(path, "mahalanobis_detector", self.to_dict()["payload"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MahalanobisDetector:
        """Read a detector written by :meth:`save`."""
        return cls._from_payload(load_json(path, "mahalanobis_detector"), str(path))


def _normalise(x: np.ndarray, name: str) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    if (norms == 0).any():
        i = int(np.argmax(norms == 0))
        raise ValidationError(
            f"{name} has {int((norms == 0).sum())} all-zero row(s) (the first at {i}); they "
            "cannot be L2-normalised. Drop them or use MahalanobisDetector."
        )
    return x / norms[:, None]


class KNNDetector:
    r"""Deep nearest neighbours (Sun et al. 2022): distance to the ``k``-th nearest training
    feature after L2 normalisation.

    .. math:: s(x) = -\big\lVert z - z_{(k)} \big\rVert_2, \qquad z = x / \lVert x \rVert_2

    where :math:`z_{(k)}` is the ``k``-th nearest normalised training feature. Higher = more
    in-distribution. ``algorithm="kdtree"`` uses :class:`scipy.spatial.cKDTree` (exact, fast in
    low dimension); ``"brute"`` computes similarities blockwise (``z · z'``; ``‖z - z'‖² =
    2 - 2 z · z'``) with a fixed memory block of about 32 MB and an exact partial sort;
    ``"auto"`` takes the tree up to 16 features.

    Parameters
    ----------
    k : int, default 50
        Sun et al. use 50 on CIFAR-10 and 1000 on ImageNet.
    algorithm : {"auto", "kdtree", "brute"}, default "auto"

    Attributes
    ----------
    train_features_ : ndarray of shape (n, d)
        The normalised training features.

    References
    ----------
    Sun, Y., Ming, Y., Zhu, X. and Li, Y. (2022). Out-of-distribution detection with deep
    nearest neighbors. ICML.
    """

    def __init__(self, *, k: int = 50, algorithm: str = "auto") -> None:
        self.k = check_positive_int(k, "k")
        self.algorithm = check_choice(algorithm, "algorithm", ("auto", "kdtree", "brute"))

    def fit(self, features: Any) -> Self:
        """Store the normalised training ``features`` (n, d); needs ``n >= k``."""
        x = _features(features, "features")
        if x.shape[0] < self.k:
            raise ValidationError(
                f"KNNDetector(k={self.k}) needs at least k training features, got {x.shape[0]}."
            )
        self.train_features_ = _normalise(x, "features")
        use_tree = self.algorithm == "kdtree" or (self.algorithm == "auto" and x.shape[1] <= 16)
        self._tree = cKDTree(self.train_features_) if use_tree else None
        return self

    def kth_distance(self, features: Any) -> np.ndarray:
        """Distance to the ``k``-th nearest normalised training feature, shape (n,)."""
        if not hasattr(self, "train_features_"):
            raise NotFittedError("this KNNDetector is not fitted yet: call fit(features).")
        t = self.train_features_
        z = _normalise(_features(features, "features", t.shape[1]), "features")
        if self._tree is not None:
            dist, _ = self._tree.query(z, k=[self.k])
            return np.asarray(dist[:, 0], dtype=np.float64)
        out = np.empty(z.shape[0])
        block = max(1, _BLOCK_ELEMENTS // t.shape[0])
        for start in range(0, z.shape[0], block):
            sim = z[start : start + block] @ t.T
            kth = -np.partition(-sim, self.k - 1, axis=1)[:, self.k - 1]
            out[start : start + block] = np.sqrt(np.maximum(2.0 - 2.0 * kth, 0.0))
        return out

    def score(self, features: Any) -> np.ndarray:
        """Minus the ``k``-th nearest-neighbour distance (higher = more in-distribution)."""
        return -self.kth_distance(features)
