"""``confide monitor``: drift, label-free accuracy and alerts, chunk by chunk, against a reference.

FILE and ``--reference`` are read with :func:`confide.io.read_predictions` (the reference must
have labels). A ``--time-col`` is read here with the same reader family, because
``read_predictions`` keeps only labels and predictions: CSV with pandas, Parquet with pyarrow,
NPZ as the array of that name. The work is :func:`run_monitor_arrays`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from confide.cli._console import err, handle_errors, out, print_json
from confide.cli._monitor_run import PERIODS, run_monitor_arrays
from confide.exceptions import ValidationError

__all__ = ["monitor_demo", "read_time_column", "register", "run_monitor"]


def _missing(col: str, path: Path, names: list[str]) -> ValidationError:
    return ValidationError(
        f"time column {col!r} not found in {str(path)!r}; its columns are {names[:30]}. "
        "Pass --time-col with one of them, or --chunk for fixed-size chunks."
    )


def read_time_column(path: Path, col: str, *, period: str | None = None) -> np.ndarray:
    """The values of column (NPZ: array) ``col``; datetime64[s] when ``period`` is given."""
    from confide.io._common import import_pandas, import_parquet, resolve_format

    fmt = resolve_format(path, None)
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as data:
            if col not in data.files:
                raise _missing(col, path, list(data.files))
            values = np.asarray(data[col])
        if period is not None and values.dtype.kind != "M":
            try:
                values = values.astype("datetime64[s]")
            except ValueError:
                raise ValidationError(
                    f"--period needs timestamps, but {col!r} in {str(path)!r} holds "
                    f"{values.dtype} values such as {values[:3].tolist()}."
                ) from None
        return values
    pd = import_pandas("Reading a time column")
    if fmt == "parquet":
        names = list(import_parquet("Reading a time column").read_schema(path).names)
        if col not in names:
            raise _missing(col, path, names)
        series = pd.read_parquet(path, columns=[col])[col]
    else:
        names = [str(c) for c in pd.read_csv(path, nrows=0).columns]
        if col not in names:
            raise _missing(col, path, names)
        series = pd.read_csv(path, usecols=[col])[col]
    if period is not None or str(series.dtype).startswith("datetime64"):
        try:
            stamps = pd.to_datetime(series, utc=True).dt.tz_convert(None)
        except (ValueError, TypeError):
            raise ValidationError(
                f"--period needs timestamps, but column {col!r} of {str(path)!r} holds values "
                f"such as {series.head(3).tolist()} that do not parse as dates."
            ) from None
        return np.asarray(stamps.to_numpy(), dtype="datetime64[s]")
    return np.asarray(series.to_numpy())


def _fmt(v: Any, digits: int = 4) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _p(v: Any) -> str:
    return "—" if v is None else (f"{v:.1e}" if v < 1e-3 else f"{v:.3f}")


def timeline_table(result: dict[str, Any], title: str) -> Table:
    """A rich table, one row per chunk."""
    table = Table(title=title, title_justify="left")
    for col in (
        "chunk",
        "n",
        "mean conf",
        "KS p (BH)",
        "PSI / thr",
        "CBPE acc [band]",
        "ATC acc",
        "realised",
        "CUSUM",
        "alerts",
    ):
        table.add_column(escape(col), justify="left" if col in ("chunk", "alerts") else "right")
    for r in result["chunks"]:
        drift = " [red]⚑[/]" if r["drift"] else ""
        alarm = " [red]⚑[/]" if r["cusum_alarm"] else ""
        table.add_row(
            str(r["key"]),
            f"{r['n']:,}",
            _fmt(r["mean_confidence"]),
            _p(r["ks_p_adjusted"]) + drift,
            f"{_fmt(r['psi'])} / {_fmt(r['psi_threshold'])}",
            f"{_fmt(r['estimated_accuracy'], 3)} [{_fmt(r['estimated_lower'], 3)}, "
            f"{_fmt(r['estimated_upper'], 3)}]",
            _fmt(r["atc_accuracy"], 3),
            _fmt(r["realised_accuracy"], 3),
            _fmt(r["cusum_statistic"], 2) + alarm,
            "[red]" + ", ".join(r["alerts"]) + "[/]" if r["alerts"] else "",
        )
    return table


def _print(result: dict[str, Any], title: str) -> None:
    ref = result["reference"]
    out.print(timeline_table(result, title))
    out.print(
        f"reference: {ref['n']} rows, accuracy {ref['accuracy']:.4f}, mean confidence "
        f"{ref['mean_confidence']:.4f}, CBPE calibration {ref['cbpe_calibration']}. "
        f"CUSUM first alarm: chunk {result['detectors']['cusum']['first_alarm']}."
    )
    for e in result["alerts"]:
        colour = "red" if e["state"] == "fired" else "green"
        out.print(f"[{colour}]{e['state']}[/] chunk {e['chunk']}: {escape(e['message'])}")


def _write_report(path: Path, result: dict[str, Any], title: str) -> None:
    from confide.report._timeline import write_monitor_report

    write_monitor_report(
        path,
        result["chunks"],
        result["alerts"],
        title,
        reference=result["reference"],
        alpha=result["settings"]["alpha"],
    )
    err.print(f"HTML report: {path}")


def run_monitor(
    file: Path,
    *,
    reference: Path | None,
    time_col: str | None = None,
    chunk: int = 1000,
    period: str | None = None,
    alpha: float = 0.01,
    as_json: bool = False,
    report: Path | None = None,
    alerts: list[str] | None = None,
    calibrate: bool = True,
) -> dict[str, Any]:
    """Read FILE and the reference, monitor, print (table or JSON), optionally write HTML."""
    from confide.io import read_predictions

    if reference is None:
        raise ValidationError(
            "--reference is required: a labelled file of the same model's predictions on data "
            "judged healthy (e.g. the validation split)."
        )
    if period is not None and time_col is None:
        raise ValidationError("--period applies to --time-col timestamps; pass --time-col too.")
    ref = read_predictions(reference)
    ref_y = ref.require_labels()
    cur = read_predictions(file)
    keys = None if time_col is None else read_time_column(file, time_col, period=period)
    err.print(
        f"monitoring {cur.n_samples} rows of {file.name} against {ref.n_samples} reference rows"
    )
    result = run_monitor_arrays(
        ref.probs,
        ref_y,
        cur.probs,
        cur.y_true,
        chunk=chunk,
        keys=keys,
        period=period,
        alpha=alpha,
        calibrate=calibrate,
        alerts=alerts or (),
    )
    result = {"file": str(file), "reference_file": str(reference), **result}
    title = f"confide monitor — {file.name} against {reference.name}"
    if as_json:
        print_json(result)
    else:
        _print(result, f"{file.name}: {len(result['chunks'])} chunks")
    if report is not None:
        _write_report(report, result, title)
    return result


def monitor_demo(out_dir: Path, *, as_json: bool = False, seed: int = 0) -> dict[str, Any]:
    """The demo's monitoring step: the shipped label-shift stream, table and HTML timeline."""
    from confide.datasets._stream import monitor_demo_stream

    stream = monitor_demo_stream(seed=seed)
    result = run_monitor_arrays(
        stream.reference_probs, stream.reference_y, stream.probs, stream.y_true, chunk=1000
    )
    change_chunk = stream.change_index // 1000
    fired = [e["chunk"] for e in result["alerts"] if e["state"] == "fired"]
    html = out_dir / "monitor_timeline.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    if not as_json:
        _print(result, "monitoring: DenseNet-40, label shift at chunk " + str(change_chunk))
        out.print(
            f"[bold]monitoring[/]: the class prior reverses at row {stream.change_index} "
            f"(chunk {change_chunk}); accuracy {stream.to_dict()['accuracy_before']:.3f} -> "
            f"{stream.to_dict()['accuracy_after']:.3f}. Alerts fired at chunk(s) {fired}; "
            f"CUSUM first alarm at chunk {result['detectors']['cusum']['first_alarm']}."
        )
    _write_report(html, result, "confide demo — monitoring a label shift")
    return {
        "stream": stream.to_dict(),
        "change_chunk": change_chunk,
        "alerts_fired_at": fired,
        "html": str(html),
        **result,
    }


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` command to ``app``."""

    @app.command()
    @handle_errors
    def monitor(
        file: Annotated[Path, typer.Argument(help="Predictions to monitor (CSV, Parquet, NPZ).")],
        reference: Annotated[
            Path | None,
            typer.Option(help="Labelled predictions of a healthy period (e.g. validation)."),
        ] = None,
        time_col: Annotated[
            str | None, typer.Option(help="Chunk by this column's values (NPZ: array name).")
        ] = None,
        chunk: Annotated[int, typer.Option(help="Chunk size in rows (without --time-col).")] = 1000,
        period: Annotated[
            str | None,
            typer.Option(help=f"Floor --time-col timestamps to: {', '.join(PERIODS)}."),
        ] = None,
        alpha: Annotated[
            float, typer.Option(help="False discovery rate of the drift tests (BH).")
        ] = 0.01,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
        report: Annotated[
            Path | None, typer.Option(help="Write a self-contained HTML timeline here.")
        ] = None,
        alert: Annotated[
            list[str] | None,
            typer.Option(help="Extra alert rule METRIC>VALUE (or <, >=, <=); repeatable."),
        ] = None,
        calibrate: Annotated[
            bool, typer.Option(help="Let CBPE correct the reference calibration when needed.")
        ] = True,
    ) -> None:
        """Monitor FILE chunk by chunk against --reference: drift, estimated accuracy, alerts."""
        run_monitor(
            file,
            reference=reference,
            time_col=time_col,
            chunk=chunk,
            period=period,
            alpha=alpha,
            as_json=as_json,
            report=report,
            alerts=alert,
            calibrate=calibrate,
        )
