r"""A monitoring stream with a real shift, built from the shipped DenseNet-40 outputs.

The long-tailed CIFAR-10 validation split (``load_cifar10_lt_densenet40("val")``) has the
training prior: class 0 is about ten times as frequent as class 9. :func:`monitor_demo_stream`
takes

* the **reference**: ``n_reference`` validation predictions drawn at random (with labels);
* the stream **before the change**: ``n_before`` further validation predictions (disjoint from
  the reference), so the same population as the reference;
* the stream **after the change**: ``n_after`` test-split predictions whose class frequencies
  follow the *reversed* long-tail prior (class 9 the most frequent), drawn per class without
  replacement. This is a label shift, :math:`p_t(y) \ne p_s(y)` with :math:`p(x \mid y)`
  unchanged: the rare classes, on which the model is least accurate (58-65% against 90-93%
  on the head classes) and least confident, become common.

The accuracy falls from about 0.79 to about 0.67 at the change, and the mean top-label
confidence only from about 0.935 to about 0.922 (the model is over-confident): a realistic,
not an easy, shift to detect from confidences alone.

References
----------
Lipton, Z. C., Wang, Y.-X. and Smola, A. (2018). Detecting and correcting for label shift with
black box predictors. ICML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MonitorStream", "monitor_demo_stream"]


@dataclass(frozen=True, eq=False)
class MonitorStream:
    """A labelled reference sample and a stream whose population changes at ``change_index``.

    Attributes
    ----------
    reference_probs : ndarray of float32, shape (n_reference, 10)
    reference_y : ndarray of intp, shape (n_reference,)
    probs : ndarray of float32, shape (n_before + n_after, 10)
        The stream, in arrival order.
    y_true : ndarray of intp, shape (n_before + n_after,)
        The stream's labels (in production they arrive late, if at all).
    change_index : int
        Position of the first item drawn after the change.
    description : str
    """

    reference_probs: np.ndarray
    reference_y: np.ndarray
    probs: np.ndarray
    y_true: np.ndarray
    change_index: int
    description: str

    def to_dict(self) -> dict[str, Any]:
        """Sizes, the change point and the accuracy before/after it (no arrays)."""
        right = np.argmax(self.probs, axis=1) == self.y_true
        c = self.change_index
        return {
            "n_reference": int(self.reference_y.shape[0]),
            "n_stream": int(self.y_true.shape[0]),
            "change_index": c,
            "accuracy_before": float(np.mean(right[:c])),
            "accuracy_after": float(np.mean(right[c:])),
            "description": self.description,
        }


def monitor_demo_stream(
    *, n_reference: int = 5000, n_before: int = 5000, n_after: int = 4000, seed: int = 0
) -> MonitorStream:
    """Reference and stream from the shipped DenseNet-40 outputs, with a label shift.

    Parameters
    ----------
    n_reference, n_before : int
        Validation predictions for the reference and for the stream before the change;
        ``n_reference + n_before`` must not exceed 10216 (the validation split).
    n_after : int
        Test predictions after the change (at most about 4100: class 9, the most frequent
        after the change, has 1000 test images).
    seed : int
        Seeds which predictions are drawn and their order.

    Returns
    -------
    MonitorStream
    """
    from confide.datasets import load_cifar10_lt_densenet40

    val, test = load_cifar10_lt_densenet40("val"), load_cifar10_lt_densenet40("test")
    n_val = int(val.y_true.shape[0])
    if min(n_reference, n_before, n_after) < 1 or n_reference + n_before > n_val:
        raise ValueError(
            f"need n_reference, n_before, n_after >= 1 and n_reference + n_before <= {n_val}; "
            f"got {n_reference}, {n_before}, {n_after}."
        )
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_val)
    ref, before = perm[:n_reference], perm[n_reference : n_reference + n_before]
    prior = np.bincount(val.y_true, minlength=10)[::-1].astype(np.float64)
    prior /= prior.sum()
    counts = np.floor(prior * n_after).astype(np.intp)
    counts[np.argsort(-(prior * n_after - counts))[: n_after - int(counts.sum())]] += 1
    parts = []
    for k in range(10):  # a loop over classes
        pool = np.flatnonzero(test.y_true == k)
        if counts[k] > pool.shape[0]:
            raise ValueError(
                f"n_after={n_after} needs {counts[k]} test images of class {k}; it has "
                f"{pool.shape[0]}. Use a smaller n_after."
            )
        parts.append(rng.choice(pool, size=counts[k], replace=False))
    after = rng.permutation(np.concatenate(parts))
    return MonitorStream(
        reference_probs=val.probs[ref],
        reference_y=val.y_true[ref],
        probs=np.concatenate([val.probs[before], test.probs[after]]),
        y_true=np.concatenate([val.y_true[before], test.y_true[after]]),
        change_index=n_before,
        description=(
            "DenseNet-40 on long-tailed CIFAR-10: reference and pre-change stream from the "
            "validation split (long-tail prior); after the change, test images with the "
            "reversed prior (the rare, harder classes become common): a label shift."
        ),
    )
