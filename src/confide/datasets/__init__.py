"""Small real data sets shipped inside confide, for the demo, examples and tests.

Each loader returns a frozen :class:`Dataset`; the files and their licences are in
``confide/datasets/files/`` (see the README there for sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from confide.scores import softmax

__all__ = [
    "Dataset",
    "MonitorStream",
    "load_cifar10_lt_densenet40",
    "load_cifar10_vgg16",
    "monitor_demo_stream",
]


@dataclass(frozen=True)
class Dataset:
    """Labels with probabilities (and logits where the source has them) of one split."""

    name: str
    y_true: np.ndarray
    probs: np.ndarray
    logits: np.ndarray | None
    source: str
    license: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_samples": int(self.y_true.shape[0]),
            "n_classes": int(self.probs.shape[1]),
            "has_logits": self.logits is not None,
            "source": self.source,
            "license": self.license,
        }


def _load(filename: str) -> Any:
    with resources.files(__package__).joinpath("files", filename).open("rb") as fh:
        return dict(np.load(fh))


def load_cifar10_vgg16() -> Dataset:
    """VGG-16 softmax outputs on the CIFAR-10 test set (Kumar, Liang & Ma 2019; MIT)."""
    d = _load("cifar10_vgg16_test_probs.npz")
    return Dataset(
        name="cifar10_vgg16_test",
        y_true=d["labels"].astype(np.intp),
        probs=d["probs"],
        logits=None,
        source="p-lambda/verified_calibration (Kumar et al., NeurIPS 2019)",
        license="MIT",
    )


def load_cifar10_lt_densenet40(split: str = "test") -> Dataset:
    """DenseNet-40 logits on long-tailed CIFAR-10, ``split="val"`` or ``"test"`` (Jung et al. 2023; MIT).

    ``probs`` is the softmax of the float32 logits computed in float64 and stored as float32,
    as a deployed model would emit them.
    """
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}.")
    d = _load("densenet40_c10_lt.npz")
    logits = d[f"{split}_logits"]
    p = softmax(logits)
    return Dataset(
        name=f"cifar10_lt_densenet40_{split}",
        y_true=d[f"{split}_labels"].astype(np.intp),
        probs=p.astype(np.float32),
        logits=logits,
        source="SeungjinJung/SCTL (Jung et al., ICML 2023)",
        license="MIT",
    )


from confide.datasets._stream import MonitorStream, monitor_demo_stream  # noqa: E402
