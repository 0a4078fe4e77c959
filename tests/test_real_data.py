"""Published figures on real model outputs in ../shared/data (skipped where it is absent).

Each data set's README there names the source of the figures checked here.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from tests.conftest import shared_data

from confide import metrics as M
from confide.scores import softmax

pytestmark = pytest.mark.shared_data


# SCTL authors' log (published_TS_CE.log), test split, ECE 15 bins and accuracy in %.
SCTL = {
    "densenet40_c10_lt": (21.08, 72.11),
    "resnet_wide28_c10_lt": (9.11, 85.38),
    "resnet110_c10_lt": (19.14, 75.97),
    "resnet110_sd_c10_lt": (14.43, 64.90),
}


@pytest.mark.parametrize(("name", "published"), SCTL.items())
def test_sctl_uncalibrated_ece_and_accuracy(name, published):
    d = np.load(shared_data("sctl_cifar10_lt_logits", f"{name}.npz"))
    p, y = softmax(d["test_logits"]), d["test_labels"]
    ece_pub, acc_pub = published
    assert 100 * M.ece(y, p, n_bins=15) == pytest.approx(ece_pub, abs=0.006)
    assert 100 * M.accuracy(y, p) == pytest.approx(acc_pub, abs=0.006)


# markus93 top-1 CSVs: uncalibrated ECE-15 and accuracy from the SCTL log / Kull et al. 2019.
MARKUS93 = {
    "probs_densenet40_c10_logits": (5.50, 92.42),
    "probs_resnet110_c10_logits": (4.75, 93.56),
    "probs_densenet40_c100_logits": (21.16, 70.00),
    "probs_resnet110_c100_logits": (18.48, 71.48),
}


def _top1(*parts):
    with gzip.open(shared_data(*parts)) as fh:
        a = np.loadtxt(fh, delimiter=",", skiprows=1)
    return (a[:, 0] == a[:, 1]).astype(int), a[:, 2]


@pytest.mark.parametrize(("name", "published"), MARKUS93.items())
def test_markus93_top1_csv(name, published):
    correct, conf = _top1("hollance_top1_csv", "markus93", f"{name}.csv.gz")
    # Top-label data: the calibration of the confidence against correctness is kind="binary".
    ece_pub, acc_pub = published
    assert 100 * M.ece(correct, conf, kind="binary", n_bins=15) == pytest.approx(ece_pub, abs=0.006)
    assert 100 * correct.mean() == pytest.approx(acc_pub, abs=0.006)


def test_hollance_senet154_twenty_bins():
    correct, conf = _top1(
        "hollance_top1_csv", "ImageNet_pytorch-image-models", "gluon_senet154.csv.gz"
    )
    assert 100 * M.ece(correct, conf, kind="binary", n_bins=20) == pytest.approx(5.14, abs=0.006)


NETCAL = {
    "densenet-bc-100-cifar-100": (14.22, 75.41),
    "wideresnet-16-4-cifar-10": (5.37, 91.09),
    "wideresnet-16-4-cifar-100": (5.81, 75.43),
    "lenet-5-cifar-10": (10.79, 53.08),
    "lenet-5-cifar-100": (1.49, 12.46),
}


@pytest.mark.parametrize(("name", "figures"), NETCAL.items())
def test_netcal_records(name, figures):
    d = np.load(shared_data("netcal_cifar_probs", f"{name}.npz"))
    p, y = d["predictions"], d["ground_truth"]
    assert p.dtype == np.float32
    assert 100 * M.ece(y, p) == pytest.approx(figures[0], abs=0.006)
    assert 100 * M.accuracy(y, p) == pytest.approx(figures[1], abs=0.006)


def test_kumar_vgg16():
    d = np.load(shared_data("kumar_cifar10_vgg16_probs", "cifar10_vgg16_test_probs.npz"))
    assert 100 * M.accuracy(d["labels"], d["probs"]) == pytest.approx(93.59, abs=0.006)
    assert 100 * M.ece(d["labels"], d["probs"]) == pytest.approx(3.98, abs=0.006)


NANNYML = {
    2015: (0.903, 0.827, 0.44),
    2016: (0.902, 0.825, 0.42),
    2017: (0.905, 0.829, 0.56),
    2018: (0.906, 0.828, 0.87),
}


@pytest.mark.parametrize(("year", "figures"), NANNYML.items())
def test_nannyml_census_by_year(year, figures):
    d = np.load(shared_data("nannyml_census_employment_ma", "employment_ma_scores.npz"))
    m = d["year"] == year
    y, p = d["y_true"][m], d["y_prob"][m]
    auc, acc, ece_pct = figures
    assert M.accuracy(y, p) == pytest.approx(acc, abs=0.0006)
    assert 100 * M.ece(y, p) == pytest.approx(ece_pct, abs=0.006)
    assert M.roc_auc(y, p) == pytest.approx(auc, abs=0.0006)
