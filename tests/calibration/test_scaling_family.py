"""Vector, matrix, Dirichlet and ensemble temperature scaling: exact fits, the protocol, real data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax, softmax
from tests.conftest import shared_data

from confide.calibration import TemperatureScaling, load
from confide.calibration._dirichlet import DirichletCalibration
from confide.calibration._ensemble_ts import EnsembleTemperatureScaling
from confide.calibration._vector import MatrixScaling, VectorScaling
from confide.exceptions import ShapeError, ValidationError

ALL = [VectorScaling, MatrixScaling, DirichletCalibration, EnsembleTemperatureScaling]
AFFINE = [VectorScaling, MatrixScaling, DirichletCalibration]


def _nll(p, y):
    p = np.column_stack([1 - p, p]) if p.ndim == 1 else p
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def _sample(rng, s):
    """Labels drawn from softmax(s)."""
    p = softmax(s, axis=1)
    return (p.cumsum(1) > rng.random((len(s), 1))).argmax(1)


def _miscalibrated(rng, n=3000, k=4):
    """Logits ``z`` whose labels come from ``softmax(A z + c)``: over-confident and biased."""
    z = rng.normal(size=(n, k)) * 3.0
    a = 0.4 * np.eye(k) + 0.05 * rng.normal(size=(k, k))
    c = rng.normal(size=k) * 0.5
    return z, _sample(rng, z @ a.T + c)


def _centred(wm, b):
    """(W, b) modulo the softmax invariance (a common row added to W, a constant to b)."""
    return wm - wm.mean(axis=0), b - b.mean()


# -- an independent implementation of the objectives ------------------------------------------
def _objective(theta, kind, f, y, lam, mu):
    n, k = f.shape
    if kind == "vector":
        wv, b = theta[:k], theta[k:]
        s = f * wv + b
        reg = lam / k * (np.sum((wv - 1) ** 2) + np.sum(b**2))
    else:
        wm, b = theta[: k * k].reshape(k, k), theta[k * k :]
        s = f @ wm.T + b
        off = wm - np.diag(np.diag(wm))
        reg = lam / (k * (k - 1)) * np.sum(off**2) + mu / k * np.sum(b**2)
    logp = log_softmax(s, axis=1)
    g = np.exp(logp)
    g[np.arange(n), y] -= 1
    g /= n
    if kind == "vector":
        grad = np.concatenate([(g * f).sum(0) + 2 * lam / k * (wv - 1), g.sum(0) + 2 * lam / k * b])
    else:
        grad = np.concatenate(
            [(g.T @ f + 2 * lam / (k * (k - 1)) * off).ravel(), g.sum(0) + 2 * mu / k * b]
        )
    return -np.mean(logp[np.arange(n), y]) + reg, grad


def _theta(cal):
    return np.concatenate([np.ravel(cal.weights_), cal.bias_])


# -- the fits ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
def test_reduces_held_out_nll(rng, cls):
    z, y = _miscalibrated(rng, n=6000)
    cal = cls().fit(z[:3000], y[:3000])
    p = cal.predict_proba(z[3000:])
    assert _nll(p, y[3000:]) < _nll(softmax(z[3000:], axis=1), y[3000:]) - 0.1
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(p > 0)


@pytest.mark.parametrize(
    ("cls", "kind", "lam", "mu", "features"),
    [
        (VectorScaling, "vector", 0.0, 0.0, "logits"),
        (VectorScaling, "vector", 0.1, 0.0, "logits"),
        (MatrixScaling, "matrix", 0.0, 0.0, "logits"),
        (MatrixScaling, "matrix", 0.05, 0.02, "logits"),
        (DirichletCalibration, "matrix", 1e-3, 1e-3, "logp"),
        (DirichletCalibration, "matrix", 0.1, 0.3, "logp"),
    ],
)
def test_fit_is_at_least_as_good_as_direct_minimisation(rng, cls, kind, lam, mu, features):
    z, y = _miscalibrated(rng, n=2000, k=4)
    kwargs = {"reg_lambda": lam} if kind == "vector" else {"reg_lambda": lam, "reg_mu": mu}
    cal = cls(**kwargs).fit(z, y)
    f = log_softmax(z, axis=1) if features == "logp" else z
    mine, _ = _objective(_theta(cal), kind, f, y, lam, mu)
    assert cal.objective_ == pytest.approx(mine, abs=1e-12)
    k = z.shape[1]
    size = 2 * k if kind == "vector" else k * k + k
    ref = minimize(
        _objective,
        rng.normal(size=size) * 0.1,
        args=(kind, f, y, lam, mu),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-10},
    )
    assert cal.objective_ <= ref.fun + 1e-6


def test_matrix_scaling_recovers_the_generating_map(rng):
    n, k = 40000, 3
    z = rng.normal(size=(n, k)) * 2.0
    a = np.array([[0.5, 0.2, -0.1], [0.0, 0.8, 0.1], [-0.2, 0.1, 0.3]])
    c = np.array([0.3, -0.2, 0.1])
    y = _sample(rng, z @ a.T + c)
    cal = MatrixScaling().fit(z, y)
    got_w, got_b = _centred(cal.weights_, cal.bias_)
    want_w, want_b = _centred(a, c)
    np.testing.assert_allclose(got_w, want_w, atol=0.05)
    np.testing.assert_allclose(got_b, want_b, atol=0.05)


def test_dirichlet_recovers_the_generating_map(rng):
    n, k = 40000, 3
    logp = log_softmax(rng.normal(size=(n, k)) * 2.0, axis=1)
    a = np.array([[0.6, 0.1, 0.0], [0.2, 0.9, -0.1], [0.0, 0.1, 0.4]])
    c = np.array([-0.3, 0.2, 0.1])
    y = _sample(rng, logp @ a.T + c)
    cal = DirichletCalibration(input="probs", reg_lambda=0.0, reg_mu=0.0).fit(np.exp(logp), y)
    got_w, got_b = _centred(cal.weights_, cal.bias_)
    want_w, want_b = _centred(a, c)
    np.testing.assert_allclose(got_w, want_w, atol=0.05)
    np.testing.assert_allclose(got_b, want_b, atol=0.05)


def test_dirichlet_logits_and_probs_inputs_agree(rng):
    z, y = _miscalibrated(rng, n=2000)
    a = DirichletCalibration().fit(z, y)
    b = DirichletCalibration(input="probs").fit(softmax(z, axis=1), y)
    np.testing.assert_allclose(a.predict_proba(z), b.predict_proba(softmax(z, axis=1)), atol=1e-6)


def test_vector_scaling_with_equal_weights_is_temperature_scaling(rng):
    z, y = _miscalibrated(rng, n=3000)
    k = z.shape[1]
    ts = TemperatureScaling().fit(z, y)
    vs = VectorScaling()
    w = np.full(len(y), 1.0 / len(y))

    def tied(beta):  # VectorScaling's own objective with W = β·1, b = 0
        return vs.objective(np.concatenate([np.full(k, beta), np.zeros(k)]), z, y, w)[0]

    ref = minimize_scalar(tied, bounds=(1e-3, 10), method="bounded", options={"xatol": 1e-12})
    assert ref.fun == pytest.approx(ts.nll_, abs=1e-8)
    assert 1 / ref.x == pytest.approx(ts.temperature_, rel=1e-5)
    vs.fit(z, y)  # the free fit can only do better
    assert vs.nll_ <= ts.nll_ + 1e-10


def test_ensemble_weights_are_the_simplex_optimum(rng):
    z, y = _miscalibrated(rng, n=3000)
    ets = EnsembleTemperatureScaling().fit(z, y)
    assert ets.temperature_ == pytest.approx(TemperatureScaling().fit(z, y).temperature_)
    assert ets.weights_.shape == (3,)
    assert np.all(ets.weights_ >= 0) and ets.weights_.sum() == pytest.approx(1.0, abs=1e-12)
    k = z.shape[1]
    rows = np.arange(len(y))
    q = np.column_stack(
        [
            softmax(z / ets.temperature_, axis=1)[rows, y],
            softmax(z, axis=1)[rows, y],
            np.full(len(y), 1 / k),
        ]
    )

    def nll(v):  # softmax-parametrised simplex weights
        return -np.mean(np.log(q @ softmax(v)))

    ref = min(
        (
            minimize(
                nll,
                rng.normal(size=3),
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000},
            )
            for _ in range(3)
        ),
        key=lambda r: r.fun,
    )
    assert ets.nll_ == pytest.approx(-np.mean(np.log(q @ ets.weights_)), abs=1e-12)
    assert ets.nll_ <= ref.fun + 1e-6
    assert ets.nll_ <= -np.mean(np.log(q[:, 0])) + 1e-12  # never worse than TS alone
    assert _nll(ets.predict_proba(z), y) == pytest.approx(ets.nll_, abs=1e-10)


def test_sample_weights_equal_repeated_rows(rng):
    z, y = _miscalibrated(rng, n=800)
    reps = rng.integers(1, 4, size=len(y))
    for cls in ALL:
        a = cls().fit(z, y, sample_weight=reps.astype(float))
        b = cls().fit(np.repeat(z, reps, axis=0), np.repeat(y, reps))
        np.testing.assert_allclose(a.predict_proba(z), b.predict_proba(z), atol=1e-5)


# -- the protocol -----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("binary", [False, True])
def test_save_load_round_trip(rng, tmp_path, cls, binary):
    z, y = _miscalibrated(rng, n=1000, k=2 if binary else 4)
    x = z[:, 1] - z[:, 0] if binary else z
    cal = cls(input="logits").fit(x, y)
    back = load(cal.save(tmp_path / "c.json"))
    assert type(back) is cls and back.method == cal.method
    assert repr(back) == repr(cal)
    np.testing.assert_array_equal(back.predict_proba(x), cal.predict_proba(x))


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("input", ["logits", "probs"])
def test_binary_one_dimensional_input(rng, cls, input):
    z = rng.normal(size=2000) * 4.0
    y = (rng.random(2000) < 1 / (1 + np.exp(-0.4 * z - 0.5))).astype(int)
    x = 1 / (1 + np.exp(-z)) if input == "probs" else z
    cal = cls(input=input).fit(x, y)
    p = cal.predict_proba(x)
    assert p.shape == (2000,) and np.all((p > 0) & (p < 1))
    assert _nll(p, y) < _nll(1 / (1 + np.exp(-z)), y) - 0.05
    with pytest.raises(ShapeError):
        cal.predict_proba(
            np.column_stack([1 - x, x]) if input == "probs" else np.column_stack([-z, z])
        )


@pytest.mark.parametrize("cls", ALL)
def test_wrong_number_of_classes_at_predict_time(rng, cls):
    z, y = _miscalibrated(rng, n=500, k=4)
    cal = cls().fit(z, y)
    with pytest.raises(ShapeError, match=r"\(n, 4\)"):
        cal.predict_proba(z[:, :3])


@pytest.mark.parametrize("cls", AFFINE)
def test_non_convergence_is_an_error_not_the_start(rng, cls):
    z, y = _miscalibrated(rng, n=500)
    with pytest.raises(ValidationError, match=rf"{cls.method}.*L-BFGS-B did not converge"):
        cls(max_iter=1).fit(z, y)


def test_ensemble_non_convergence_is_an_error(rng):
    z, y = _miscalibrated(rng, n=500)
    with pytest.raises(ValidationError, match=r"ensemble_temperature.*SLSQP did not converge"):
        EnsembleTemperatureScaling(max_iter=1).fit(z, y)


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (VectorScaling, {"weights": [1.0, 1.0], "bias": [0.0, 0.0, 0.0]}),
        (MatrixScaling, {"weights": [[1.0, 0.0, 0.0]] * 3, "bias": [0.0, 0.0]}),
        (
            DirichletCalibration,
            {"weights": [[1.0, 0.0, 0.0]] * 3, "bias": [0.0, float("nan"), 0.0]},
        ),
        (EnsembleTemperatureScaling, {"temperature": 1.0, "weights": [0.5, 0.6, 0.0]}),
        (EnsembleTemperatureScaling, {"temperature": -1.0, "weights": [1.0, 0.0, 0.0]}),
    ],
)
def test_set_params_rejects_malformed_parameters(cls, params):
    cal = cls()
    cal.n_classes_ = 3
    with pytest.raises(ValueError):
        cal._set_params({**params, "objective": 0.0, "nll": 0.0, "n_iter": 1})


@pytest.mark.parametrize("cls", [VectorScaling, MatrixScaling, DirichletCalibration])
def test_negative_regularisation_is_rejected(cls):
    with pytest.raises(ValidationError, match="reg_lambda"):
        cls(reg_lambda=-1.0)


def test_matrix_scaling_matches_or_beats_netcal(rng):
    scaling = pytest.importorskip("netcal.scaling")
    z, y = _miscalibrated(rng, n=2000, k=3)
    p = softmax(z, axis=1)
    ref = scaling.LogisticCalibration(temperature_only=False, method="mle")
    ref.fit(p, y, random_state=0, tensorboard=False)
    ours = MatrixScaling(input="probs").fit(p, y)
    theirs = _nll(np.asarray(ref.transform(p), dtype=np.float64), y)
    assert ours.nll_ <= theirs + 1e-4


# -- real data --------------------------------------------------------------------------------
@pytest.mark.shared_data
def test_real_cifar10_lt_logits_every_method_improves_test_nll():
    d = np.load(shared_data("sctl_cifar10_lt_logits", "densenet40_c10_lt.npz"))
    zv, yv = d["val_logits"], d["val_labels"]
    zt, yt = d["test_logits"].astype(np.float64), d["test_labels"]
    uncal = _nll(softmax(zt, axis=1), yt)
    for cls in ALL:
        got = _nll(cls().fit(zv, yv).predict_proba(zt), yt)
        assert got < uncal, (cls.__name__, got, uncal)
