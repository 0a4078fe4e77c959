r"""Monitoring a partitioned prediction log on Dask: per-chunk confidence histograms and drift.

The top-label confidence of every row is binned where its partition lives (shared ``edges``,
uniform over [0, 1] by default); each partition returns ``{chunk key: counts per bin}`` plus the
confidence sum per chunk, and the dictionaries are summed in a tree. Chunks are

* ``chunks=None``: the whole log;
* ``chunks=N`` (int): ``N`` consecutive rows in the log's order (partition order, then row
  order), keys ``0, 1, ...``, like :func:`confide.monitor.make_chunks` (``incomplete=``);
* ``chunks="time"``: one chunk per distinct timestamp (``time_col=`` / ``timestamps=``), floored
  to ``period`` (``"Y"``, ``"M"``, ``"D"``, ``"h"``, ``"m"``, ``"s"``) when given.

Against the reference histogram (an in-memory array of confidences, or another partitioned
source binned the same way), each chunk gets the PSI with its size-aware test
(:func:`confide.monitor.psi_test`, ``calibration="asymptotic"`` or ``"moments"``), Pearson's
chi-square and the G-test of homogeneity (:func:`confide.monitor.chi_square_test`,
:func:`confide.monitor.g_test`), all computed from the counts exactly as the in-memory tests do
with the same explicit ``edges`` (bins empty in both windows dropped). The Wasserstein effect
size of the in-memory tests needs the samples and is not reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from confide._validation import check_choice, check_positive_int
from confide.distributed._dask import compute, import_dask, tree_reduce
from confide.distributed._sources import Batch, PartitionedPredictions, as_partitions
from confide.exceptions import ValidationError
from confide.metrics._binning import assign_bins
from confide.metrics._inputs import top_label
from confide.monitor._chunks import _json_key
from confide.monitor._psi import _cached_null, check_psi_options, psi_band, psi_rows
from confide.monitor._window_base import check_alpha, json_value
from confide.monitor._window_bins import check_bins
from confide.monitor._window_hist import contingency

__all__ = ["ChunkDrift", "ChunkedDrift", "confidence_histograms", "monitor_chunks"]

_PERIODS = ("Y", "M", "D", "h", "m", "s")
Hist = dict[Any, np.ndarray]  # key -> [counts per bin..., confidence sum]


@dataclass(frozen=True)
class ChunkDrift:
    """One chunk of the log against the reference.

    Attributes
    ----------
    key : int, float or str
        Chunk number, or the (floored) timestamp as an ISO string.
    n : int
        Rows in the chunk.
    mean_confidence : float
    counts : tuple of int
        Confidence counts per bin (all bins of ``edges``).
    psi, psi_threshold, psi_p_value, psi_drifted, psi_band
        The PSI, its size-aware critical value, p-value, decision and conventional band.
    chi2, chi2_p_value, g, g_p_value : float
        Pearson's and the G statistic of homogeneity, with their asymptotic p-values.
    """

    key: int | float | str
    n: int
    mean_confidence: float
    counts: tuple[int, ...]
    psi: float
    psi_threshold: float | None
    psi_p_value: float
    psi_drifted: bool
    psi_band: str
    chi2: float
    chi2_p_value: float
    g: float
    g_p_value: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = json_value(dict(self.__dict__))
        return out


@dataclass(frozen=True)
class ChunkedDrift:
    """Per-chunk drift of a partitioned log: edges, reference histogram and one row per chunk."""

    edges: tuple[float, ...]
    reference_counts: tuple[int, ...]
    n_reference: int
    alpha: float
    calibration: str
    empty_bins: str
    rows: tuple[ChunkDrift, ...]

    @property
    def drifted_keys(self) -> list[int | float | str]:
        """Keys of the chunks whose PSI test fired."""
        return [r.key for r in self.rows if r.psi_drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": list(self.edges),
            "reference_counts": list(self.reference_counts),
            "n_reference": self.n_reference,
            "alpha": self.alpha,
            "calibration": self.calibration,
            "empty_bins": self.empty_bins,
            "rows": [r.to_dict() for r in self.rows],
        }


def _keys_for(batch: Batch, mode: str, size: int, offset: int, period: str | None) -> np.ndarray:
    if mode == "all":
        return np.zeros(batch.n, dtype=np.int64)
    if mode == "rows":
        return (offset + np.arange(batch.n, dtype=np.int64)) // size
    keys = batch.keys
    if keys is None:  # pragma: no cover - checked before the graph is built
        raise ValidationError("chunks='time' needs timestamps")
    if period is not None:
        if keys.dtype.kind != "M":
            raise ValidationError(
                f"period={period!r} floors datetime64 timestamps, got dtype {keys.dtype}."
            )
        keys = keys.astype(f"datetime64[{period}]")
    if keys.dtype.kind == "M" and np.isnat(keys).any():
        raise ValidationError(f"timestamps contain NaT at {int(np.isnat(keys).sum())} row(s).")
    if keys.dtype.kind == "f" and not np.isfinite(keys).all():
        raise ValidationError("timestamps contain NaN or infinity; drop or fill those rows.")
    return keys


def _partition_hist(
    batch: Batch, edges: np.ndarray, mode: str, size: int, offset: int, period: str | None
) -> Hist:
    """``{key: [count per bin, sum of confidences]}`` of one partition."""
    if batch.n == 0:
        return {}
    conf, _ = top_label(batch.probs)
    if conf.min() < edges[0] or conf.max() > edges[-1]:
        raise ValidationError(
            f"confidences in [{conf.min()!r}, {conf.max()!r}] fall outside the edges "
            f"[{edges[0]!r}, {edges[-1]!r}]; widen the edges."
        )
    idx = assign_bins(conf, edges)
    keys = _keys_for(batch, mode, size, offset, period)
    uniq, inv = np.unique(keys, return_inverse=True)
    b = edges.shape[0] - 1
    counts = np.bincount(inv * b + idx, minlength=uniq.shape[0] * b).reshape(-1, b)
    sums = np.bincount(inv, weights=conf.astype(np.float64), minlength=uniq.shape[0])
    table = np.column_stack([counts.astype(np.float64), sums])
    return {uniq[j]: table[j] for j in range(uniq.shape[0])}


def _merge_hists(items: list[Hist]) -> Hist:
    out: Hist = {}
    for h in items:
        for k, v in h.items():
            out[k] = out[k] + v if k in out else v.copy()
    return out


def confidence_histograms(
    parts: PartitionedPredictions,
    edges: np.ndarray,
    *,
    chunks: int | str | None = None,
    period: str | None = None,
    incomplete: str = "keep",
) -> Hist:
    """Merged ``{chunk key: [counts per bin..., confidence sum]}`` of a partitioned log."""
    dask = import_dask()
    incomplete = check_choice(incomplete, "incomplete", ("keep", "drop", "append"))
    offsets = [0] * parts.n_partitions
    size = 0
    if chunks is None:
        mode = "all"
    elif isinstance(chunks, str):
        check_choice(chunks, "chunks", ("time",))
        if not parts.has_keys:
            raise ValidationError(
                "chunks='time' needs a timestamp per row: pass time_col= (tables) or timestamps= "
                "(Dask arrays)."
            )
        if period is not None:
            check_choice(period, "period", _PERIODS)
        mode = "time"
    else:
        mode = "rows"
        size = check_positive_int(chunks, "chunks")
        lengths = parts.partition_lengths()
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(int).tolist()
    tasks = [
        dask.delayed(_partition_hist, pure=True)(p, edges, mode, size, off, period)
        for p, off in zip(parts.partitions, offsets, strict=True)
    ]
    (hist,) = compute(tree_reduce(tasks, _merge_hists))
    if not hist:
        raise ValidationError(f"{parts.source} holds no rows.")
    out: Hist = dict(sorted(hist.items()))
    if mode == "rows" and incomplete != "keep":
        last = max(out)
        if out[last][:-1].sum() < size:
            tail = out.pop(last)
            if not out and incomplete == "drop":
                raise ValidationError(
                    f"chunks={size} with incomplete='drop' leaves no chunk; use a smaller size "
                    "or incomplete='keep'."
                )
            if not out:
                out[last] = tail
            elif incomplete == "append":
                out[last - 1] = out[last - 1] + tail
    return out


def _psi_test(
    r: np.ndarray,
    c: np.ndarray,
    a: float,
    policy: str,
    eps: float,
    calibration: str,
    n_sim: int,
    seed: int | None,
) -> tuple[float, float | None, float, bool]:
    """PSI, threshold, p-value and decision from two count vectors, as ``psi_test`` with edges."""
    n, m = int(r.sum()), int(c.sum())
    values, used, _, _ = psi_rows(r[None, :], c[None, :], n, m, policy, eps)
    value, dof = float(values[0]), int(used[0]) - 1
    scale = 1.0 / n + 1.0 / m
    threshold = scale * float(special.chdtri(dof, a)) if dof > 0 else None
    if calibration == "asymptotic":
        p = float(special.chdtrc(dof, value / scale)) if dof > 0 else 1.0
    else:
        null = _cached_null(
            n, m, tuple(r.tolist()), "edges", tuple(c.tolist()), policy, eps, n_sim, seed
        )
        mu, var = float(null.mean()), float(null.var())
        if mu > 0 and var > 0:
            sa, nu = var / (2.0 * mu), 2.0 * mu * mu / var
            p, threshold = float(special.chdtrc(nu, value / sa)), sa * float(special.chdtri(nu, a))
        else:
            p, threshold = 1.0, None
    return value, threshold, p, bool(threshold is not None and value > threshold)


def monitor_chunks(
    data: Any,
    y_prob: Any = None,
    *,
    reference: Any,
    chunks: int | str | None = None,
    period: str | None = None,
    incomplete: str = "keep",
    n_bins: int = 10,
    edges: Any = None,
    alpha: float = 0.05,
    empty_bins: str = "smooth",
    epsilon: float = 1e-4,
    calibration: str = "asymptotic",
    n_simulations: int = 20_000,
    seed: int | None = 0,
    **read_options: Any,
) -> ChunkedDrift:
    r"""Per-chunk confidence drift of a partitioned log against a reference, on Dask.

    .. math:: \mathrm{PSI} = \sum_k (c_k - r_k)\ln\frac{c_k}{r_k}, \qquad
        X^2 = \sum_{i,k} \frac{(O_{ik} - E_{ik})^2}{E_{ik}}, \qquad
        G = 2\sum_{i,k} O_{ik}\ln\frac{O_{ik}}{E_{ik}}

    on the top-label confidences binned by ``edges`` (default ``n_bins`` uniform bins of
    [0, 1]); every value equals :func:`confide.monitor.psi_test`,
    :func:`~confide.monitor.chi_square_test` and :func:`~confide.monitor.g_test` on the
    reference and the chunk's confidences with the same ``edges``.

    Parameters
    ----------
    data, y_prob
        The log: Dask arrays, a Dask dataframe or Parquet path(s) (labels optional).
    reference : array-like of confidences, or a partitioned source
        The healthy period: 1-D top-label confidences in memory, or predictions like ``data``
        (Parquet path(s), a Dask dataframe or :func:`as_partitions` output), binned on Dask.
    chunks : None, int or "time"
        Whole log, ``N`` rows per chunk, or one chunk per timestamp (``time_col=`` /
        ``timestamps=``; ``period=`` floors datetime64 keys).
    alpha, empty_bins, epsilon, calibration, n_simulations, seed
        As :func:`confide.monitor.psi_test` (``calibration`` ``"asymptotic"`` or ``"moments"``).

    References
    ----------
    Yurdakul (2018), Statistical properties of population stability index, PhD thesis, Western
    Michigan University; Pearson (1900), Phil. Mag. 50(302); Sokal & Rohlf (1981), Biometry.
    """
    a = check_alpha(alpha)
    policy, eps, calibration, n_sim, seed = check_psi_options(
        empty_bins, epsilon, calibration, n_simulations, seed
    )
    check_choice(calibration, "calibration", ("asymptotic", "moments"))
    if edges is None:
        edges = np.arange(check_positive_int(n_bins, "n_bins") + 1, dtype=np.float64) / n_bins
    spec = check_bins(n_bins, edges, "reference")
    assert spec.edges is not None
    e = spec.edges
    parts = as_partitions(data, y_prob, **read_options)
    hist = confidence_histograms(parts, e, chunks=chunks, period=period, incomplete=incomplete)
    in_memory = isinstance(reference, np.ndarray) or (
        isinstance(reference, list | tuple)
        and not all(isinstance(r, str | os.PathLike) for r in reference)
    )
    if in_memory:
        ref_conf = np.asarray(reference)
        if ref_conf.ndim != 1 or ref_conf.shape[0] == 0 or ref_conf.dtype.kind != "f":
            raise ValidationError(
                f"reference must be a non-empty 1-D array of confidences, got shape "
                f"{ref_conf.shape} of dtype {ref_conf.dtype}."
            )
        if not np.isfinite(ref_conf).all() or ref_conf.min() < e[0] or ref_conf.max() > e[-1]:
            raise ValidationError(
                f"reference confidences must be finite and inside the edges [{e[0]}, {e[-1]}]."
            )
        ref_counts = np.bincount(assign_bins(ref_conf, e), minlength=e.shape[0] - 1)
    else:
        ref_hist = confidence_histograms(as_partitions(reference), e)
        ref_counts = next(iter(ref_hist.values()))[:-1].astype(np.int64)
    ref_counts = np.asarray(ref_counts, dtype=np.int64)
    rows = []
    for key, table in hist.items():  # a loop over chunks
        cur = table[:-1].astype(np.int64)
        keep = (ref_counts + cur) > 0
        r, c = ref_counts[keep], cur[keep]
        value, thr, p, drifted = _psi_test(r, c, a, policy, eps, calibration, n_sim, seed)
        chi2, chi2_p, _ = contingency(r, c, "pearson", True)
        g, g_p, _ = contingency(r, c, "log-likelihood", True)
        m = int(cur.sum())
        rows.append(
            ChunkDrift(
                key=_json_key(key),
                n=m,
                mean_confidence=float(table[-1] / m),
                counts=tuple(int(x) for x in cur),
                psi=value,
                psi_threshold=thr,
                psi_p_value=p,
                psi_drifted=drifted,
                psi_band=psi_band(value),
                chi2=chi2,
                chi2_p_value=chi2_p,
                g=g,
                g_p_value=g_p,
            )
        )
    return ChunkedDrift(
        edges=tuple(float(x) for x in e),
        reference_counts=tuple(int(x) for x in ref_counts),
        n_reference=int(ref_counts.sum()),
        alpha=a,
        calibration=calibration,
        empty_bins=policy,
        rows=tuple(rows),
    )
