from __future__ import annotations

import numpy as np
import pytest

from confide import metrics
from confide.datasets import load_cifar10_lt_densenet40, load_cifar10_vgg16


def test_vgg16_published_figures():
    d = load_cifar10_vgg16()
    assert d.probs.shape == (10000, 10) and d.probs.dtype == np.float32
    assert 100 * metrics.accuracy(d.y_true, d.probs) == pytest.approx(93.59, abs=0.006)
    assert 100 * metrics.ece(d.y_true, d.probs) == pytest.approx(3.98, abs=0.006)


def test_densenet_lt_splits_and_published_figures():
    val, test = load_cifar10_lt_densenet40("val"), load_cifar10_lt_densenet40("test")
    assert val.logits.shape == (10216, 10) and test.logits.shape == (10000, 10)
    assert 100 * metrics.ece(test.y_true, test.probs) == pytest.approx(21.08, abs=0.006)
    assert 100 * metrics.accuracy(test.y_true, test.probs) == pytest.approx(72.11, abs=0.006)
    with pytest.raises(ValueError, match="split must be"):
        load_cifar10_lt_densenet40("train")
