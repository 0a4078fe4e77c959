"""Per-chunk drift on Dask equals the in-memory window tests with the same edges."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from confide.distributed._monitor import monitor_chunks
from confide.distributed._sources import as_partitions
from confide.exceptions import ValidationError
from confide.metrics._inputs import top_label
from confide.monitor import chi_square_test, g_test, make_chunks, psi_test

RTOL = 1e-12
EDGES = np.linspace(0.0, 1.0, 11)


@pytest.fixture(scope="module")
def log() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(8)
    n = 12_000
    p = rng.beta(2, 2, n)
    p[8_000:] = rng.beta(5, 1, 4_000)  # the last third drifts up
    t0 = np.datetime64("2026-01-01T00:00:00", "s")
    ts = t0 + np.sort(rng.integers(0, 6 * 86_400, n)).astype("timedelta64[s]")
    ref = rng.beta(2, 2, 5_000)
    return {"p": p, "ts": ts, "ref": ref, "y": (rng.random(n) < p).astype(int)}


def check_rows(result, conf, ref_conf, chunks: int, calibration: str) -> None:
    expected = make_chunks(conf.shape[0], chunks)
    assert [r.key for r in result.rows] == [c.key for c in expected]
    for row, chunk in zip(result.rows, expected, strict=True):
        cur = conf[chunk.indices]
        ps = psi_test(ref_conf, cur, edges=EDGES, calibration=calibration)
        chi = chi_square_test(ref_conf, cur, edges=EDGES)
        g = g_test(ref_conf, cur, edges=EDGES)
        assert row.n == chunk.n
        np.testing.assert_allclose(row.psi, ps.statistic, rtol=RTOL)
        np.testing.assert_allclose(row.psi_threshold, ps.threshold, rtol=RTOL)
        np.testing.assert_allclose(row.psi_p_value, ps.p_value, rtol=1e-10, atol=1e-300)
        assert row.psi_drifted == ps.drifted
        np.testing.assert_allclose(row.chi2, chi.statistic, rtol=RTOL)
        np.testing.assert_allclose(row.chi2_p_value, chi.p_value, rtol=1e-10, atol=1e-300)
        np.testing.assert_allclose(row.g, g.statistic, rtol=RTOL)
        np.testing.assert_allclose(row.mean_confidence, cur.mean(), rtol=RTOL)
        assert list(row.counts) == np.histogram(cur, EDGES)[0].tolist()


def test_chunks_of_n_rows_match_in_memory(client, log) -> None:
    p, ref = log["p"], log["ref"]
    conf, _ = top_label(p)
    ref_conf, _ = top_label(ref)
    res = monitor_chunks(
        da.from_array(log["y"], chunks=1_700),
        da.from_array(p, chunks=1_700),
        reference=ref_conf,
        chunks=2_500,
        edges=EDGES,
    )
    check_rows(res, conf, ref_conf, 2_500, "asymptotic")
    assert res.rows[-1].psi_drifted and res.rows[-1].psi > 100 * res.rows[0].psi
    assert res.to_dict()["rows"][0]["key"] == 0


def test_time_chunks_from_a_dataframe_match_in_memory(client, log) -> None:
    p, ref = log["p"], log["ref"]
    frame = pd.DataFrame({"score": p, "label": log["y"], "ts": log["ts"]})
    ddf = dd.from_pandas(frame, npartitions=5)
    ref_conf, _ = top_label(ref)
    res = monitor_chunks(
        ddf,
        reference=ref_conf,
        chunks="time",
        period="D",
        time_col="ts",
        edges=EDGES,
        calibration="moments",
        n_simulations=2_000,
    )
    conf, _ = top_label(p)
    check_rows_time(res, conf, ref_conf, log["ts"])


def check_rows_time(res, conf, ref_conf, ts) -> None:
    expected = make_chunks(conf.shape[0], ts, period="D")
    assert [r.key for r in res.rows] == [c.key for c in expected]
    for row, chunk in zip(res.rows, expected, strict=True):
        ps = psi_test(ref_conf, conf[chunk.indices], edges=EDGES, n_simulations=2_000)
        np.testing.assert_allclose(row.psi, ps.statistic, rtol=RTOL)
        np.testing.assert_allclose(row.psi_threshold, ps.threshold, rtol=RTOL)
        assert row.psi_drifted == ps.drifted


def test_reference_from_dask_equals_reference_in_memory(client, log) -> None:
    p, ref = log["p"], log["ref"]
    yd, pd_ = da.from_array(log["y"], chunks=3_000), da.from_array(p, chunks=3_000)
    ref_conf, _ = top_label(ref)
    a = monitor_chunks(yd, pd_, reference=ref_conf, chunks=4_000)
    parts = as_partitions(None, da.from_array(ref, chunks=1_000))
    b = monitor_chunks(yd, pd_, reference=parts, chunks=4_000)
    assert a.to_dict() == b.to_dict()


def test_monitor_errors(client, log) -> None:
    yd, pd_ = da.from_array(log["y"], chunks=3_000), da.from_array(log["p"], chunks=3_000)
    with pytest.raises(ValidationError, match="time_col"):
        monitor_chunks(yd, pd_, reference=log["ref"], chunks="time")
    with pytest.raises(ValidationError, match="inside the edges"):
        monitor_chunks(yd, pd_, reference=log["ref"] + 2.0)
    with pytest.raises(ValidationError, match="leaves no chunk"):
        monitor_chunks(yd, pd_, reference=log["ref"], chunks=50_000, incomplete="drop")


@pytest.mark.parametrize("incomplete", ["drop", "append"])
def test_incomplete_last_chunk_as_make_chunks(client, log, incomplete) -> None:
    p = log["p"]
    res = monitor_chunks(
        None,
        da.from_array(p, chunks=2_600),
        reference=log["ref"],
        chunks=5_000,
        incomplete=incomplete,
    )
    expected = make_chunks(p.shape[0], 5_000, incomplete=incomplete)
    assert [(r.key, r.n) for r in res.rows] == [(c.key, c.n) for c in expected]
