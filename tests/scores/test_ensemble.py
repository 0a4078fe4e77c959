"""Tests of confide.scores.ensemble_uncertainty."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from confide.exceptions import NonFiniteError, ProbabilityError, ShapeError, ValidationError
from confide.scores import EnsembleUncertainty, ensemble_uncertainty

RNG = np.random.default_rng(11)


def _members(m: int, n: int, k: int, alpha: float = 0.5) -> np.ndarray:
    return RNG.dirichlet(np.full(k, alpha), size=(m, n))


def _reference(member_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop-based reference with scipy.stats.entropy: (total, aleatoric, epistemic)."""
    m, n, _ = member_probs.shape
    total = np.empty(n)
    aleatoric = np.empty(n)
    for j in range(n):
        total[j] = scipy.stats.entropy(member_probs[:, j, :].mean(axis=0))
        aleatoric[j] = np.mean([scipy.stats.entropy(member_probs[i, j, :]) for i in range(m)])
    return total, aleatoric, total - aleatoric


@st.composite
def member_arrays(draw: st.DrawFn) -> np.ndarray:
    """(m, n, k) member probabilities with exact zeros and one-hot rows."""
    shape = draw(st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(2, 5)))
    w = draw(hnp.arrays(np.float64, shape, elements=st.one_of(st.just(0.0), st.floats(1e-9, 10.0))))
    w[..., 0] += w.sum(axis=-1) == 0
    return w / w.sum(axis=-1, keepdims=True)


def test_matches_reference() -> None:
    p = _members(5, 40, 4)
    res = ensemble_uncertainty(p)
    total, aleatoric, epistemic = _reference(p)
    np.testing.assert_allclose(res.mean_probs, p.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(res.total, total, rtol=1e-12)
    np.testing.assert_allclose(res.aleatoric, aleatoric, rtol=1e-12)
    np.testing.assert_allclose(res.epistemic, epistemic, rtol=1e-9, atol=1e-14)
    assert res.mean_probs.shape == (40, 4)
    assert res.total.shape == res.aleatoric.shape == res.epistemic.shape == (40,)


def test_identical_members_have_no_epistemic_uncertainty() -> None:
    one = _members(1, 2000, 3)
    res = ensemble_uncertainty(np.repeat(one, 3, axis=0))
    # total - aleatoric rounds to about -1e-16 for many of these rows: clipped to exactly 0.
    assert (res.epistemic >= 0).all()
    np.testing.assert_allclose(res.epistemic, 0.0, atol=1e-15)
    np.testing.assert_allclose(res.total, res.aleatoric, rtol=1e-14)
    assert (res.aleatoric > 0).all()


def test_confident_disagreeing_members_are_purely_epistemic() -> None:
    p = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    res = ensemble_uncertainty(p)
    np.testing.assert_array_equal(res.aleatoric, [0.0])
    np.testing.assert_allclose(res.total, [math.log(2)], rtol=1e-15)
    np.testing.assert_allclose(res.epistemic, [math.log(2)], rtol=1e-15)


def test_binary_2d_input_equals_two_columns() -> None:
    p = RNG.uniform(size=(6, 25))
    res = ensemble_uncertainty(p)
    ref = ensemble_uncertainty(np.stack([1 - p, p], axis=-1))
    assert res.mean_probs.shape == (25,)
    np.testing.assert_allclose(res.mean_probs, p.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(res.total, ref.total, rtol=1e-14)
    np.testing.assert_allclose(res.aleatoric, ref.aleatoric, rtol=1e-14)
    np.testing.assert_allclose(res.epistemic, ref.epistemic, rtol=1e-12, atol=1e-15)


def test_member_axis() -> None:
    p = _members(4, 10, 3)
    a = ensemble_uncertainty(p)
    b = ensemble_uncertainty(np.transpose(p, (1, 0, 2)), axis=1)
    np.testing.assert_array_equal(a.total, b.total)
    np.testing.assert_array_equal(a.epistemic, b.epistemic)
    q = RNG.uniform(size=(4, 10))
    np.testing.assert_array_equal(
        ensemble_uncertainty(q).epistemic, ensemble_uncertainty(q.T, axis=-1).epistemic
    )


def test_base_two_gives_bits() -> None:
    p = _members(3, 10, 3)
    nats = ensemble_uncertainty(p)
    bits = ensemble_uncertainty(p, base=2)
    np.testing.assert_allclose(bits.total, nats.total / math.log(2), rtol=1e-14)
    np.testing.assert_allclose(bits.epistemic, nats.epistemic / math.log(2), rtol=1e-12)


def test_float32_input() -> None:
    p32 = _members(3, 5, 4).astype(np.float32)
    res = ensemble_uncertainty(p32)
    assert res.total.dtype == np.float64
    assert res.mean_probs.dtype == np.float64


def test_result_is_frozen_and_read_only() -> None:
    res = ensemble_uncertainty(_members(2, 3, 2))
    assert isinstance(res, EnsembleUncertainty)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.total = np.zeros(3)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.epistemic[0] = 1.0


def test_to_dict_is_json_safe() -> None:
    p = _members(3, 4, 3)
    res = ensemble_uncertainty(p)
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) == {"mean_probs", "total", "aleatoric", "epistemic"}
    np.testing.assert_allclose(d["mean_probs"], res.mean_probs, rtol=0)
    np.testing.assert_allclose(d["epistemic"], res.epistemic, rtol=0)
    assert all(type(v) is float for v in d["total"])


@given(member_arrays())
def test_decomposition_invariants(p: np.ndarray) -> None:
    res = ensemble_uncertainty(p)
    k = p.shape[-1]
    assert (res.epistemic >= 0).all()
    assert (res.aleatoric >= 0).all()
    assert (res.total <= math.log(k)).all()
    np.testing.assert_allclose(res.total, res.aleatoric + res.epistemic, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(res.mean_probs.sum(axis=1), 1.0, atol=1e-12)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("shape", [(5,), (2, 2, 2, 2)])
def test_wrong_ndim_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ShapeError, match=r"member_probs must be 3-D \(members, samples, classes\)"):
        ensemble_uncertainty(np.full(shape, 0.5))


def test_class_axis_as_member_axis_rejected() -> None:
    with pytest.raises(ShapeError, match="last axis, which holds the classes"):
        ensemble_uncertainty(_members(2, 3, 4), axis=-1)


def test_axis_out_of_range_rejected() -> None:
    with pytest.raises(ShapeError, match="axis=3 is out of range for a 3-D array"):
        ensemble_uncertainty(_members(2, 3, 4), axis=3)


def test_out_of_range_rejected_with_location() -> None:
    p = np.full((2, 3), 0.5)
    p[1, 2] = 1.5
    with pytest.raises(ProbabilityError, match=r"in \[0, 1\].*member 1, sample 2: 1\.5"):
        ensemble_uncertainty(p)


def test_rows_not_summing_rejected_with_location() -> None:
    p = _members(3, 4, 3)
    p[2, 1] = [0.5, 0.5, 0.5]
    with pytest.raises(
        ProbabilityError, match=r"must sum to 1.*member 2, sample 1 summing to 1\.5"
    ):
        ensemble_uncertainty(p)


def test_nonfinite_rejected() -> None:
    p = _members(2, 3, 2)
    p[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="member_probs contains NaN"):
        ensemble_uncertainty(p)


def test_single_class_rejected() -> None:
    with pytest.raises(ShapeError, match="at least 2 classes"):
        ensemble_uncertainty(np.ones((2, 3, 1)))


def test_no_samples_rejected() -> None:
    with pytest.raises(ShapeError, match="at least one member and one sample"):
        ensemble_uncertainty(np.zeros((2, 0, 3)))


def test_bad_base_rejected() -> None:
    with pytest.raises(ValidationError, match="base must be a finite number > 1"):
        ensemble_uncertainty(_members(2, 3, 2), base=1.0)
