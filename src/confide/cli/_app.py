"""The Typer application: one function per command, kept thin; the work lives in the library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from confide._version import __version__
from confide.cli._console import err, handle_errors, out

app = typer.Typer(
    name="confide",
    help="Make a model's confidence score something a team can trust and act on.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print confide's version."""
    out.print(__version__)


@app.command()
@handle_errors
def evaluate(
    file: Annotated[Path, typer.Argument(help="Predictions: CSV, Parquet or NPZ with labels.")],
    n_bins: Annotated[int, typer.Option(help="Number of uniform bins for binned metrics.")] = 15,
    confidence_level: Annotated[
        float, typer.Option(help="Level of the bootstrap intervals.")
    ] = 0.95,
    n_resamples: Annotated[
        int | None,
        typer.Option(
            help="Bootstrap resamples (0: no intervals; default 200, 0 with --engine dask)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout.")
    ] = False,
    plot: Annotated[Path | None, typer.Option(help="Write a reliability diagram PNG here.")] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here.")
    ] = None,
    label_col: Annotated[str | None, typer.Option(help="Label column (default: detected).")] = None,
    score_col: Annotated[str | None, typer.Option(help="Binary P(y=1) column.")] = None,
    input_kind: Annotated[
        str | None, typer.Option("--input", help="probs | logits | score (default: detected).")
    ] = None,
    prob_key: Annotated[str | None, typer.Option(help="NPZ array of probabilities.")] = None,
    logit_key: Annotated[str | None, typer.Option(help="NPZ array of logits.")] = None,
    label_key: Annotated[str | None, typer.Option(help="NPZ array of labels.")] = None,
    engine: Annotated[
        str, typer.Option(help="numpy (one process) | dask (FILE may be a Parquet glob).")
    ] = "numpy",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (default: a LocalCluster sized to the machine)."),
    ] = None,
) -> None:
    """Measure calibration and discrimination of FILE: every metric with its confidence interval."""
    read_options = {
        "label_col": label_col,
        "score_col": score_col,
        "input": input_kind,
        "prob_key": prob_key,
        "logit_key": logit_key,
        "label_key": label_key,
    }
    if engine not in ("numpy", "dask"):
        err.print(f"[bold red]error:[/] unknown engine {engine!r}; choose numpy or dask.")
        raise typer.Exit(code=2)
    if engine == "dask":
        if report is not None:
            err.print(
                "[bold red]error:[/] --report needs the rows in memory; with --engine dask use --plot or --json."
            )
            raise typer.Exit(code=2)
        from confide.cli._evaluate_dask import run_evaluate_dask

        run_evaluate_dask(
            str(file),
            scheduler=scheduler,
            n_bins=n_bins,
            as_json=as_json,
            confidence_level=confidence_level,
            n_resamples=0 if n_resamples is None else n_resamples,
            seed=seed,
            read_options={
                k: v for k, v in read_options.items() if k in ("label_col", "score_col", "input")
            },
            plot=plot,
        )
        return
    from confide.cli._evaluate import run_evaluate

    run_evaluate(
        file,
        n_bins=n_bins,
        confidence_level=confidence_level,
        n_resamples=200 if n_resamples is None else n_resamples,
        seed=seed,
        as_json=as_json,
        plot=plot,
        report=report,
        read_options=read_options,
    )


@app.command()
@handle_errors
def calibrate(
    file: Annotated[
        Path, typer.Argument(help="Validation predictions with labels (CSV, Parquet, NPZ).")
    ],
    method: Annotated[
        str,
        typer.Option(
            help="temperature, vector, matrix, dirichlet, platt, isotonic, beta, histogram, ... or auto (cross-validated choice)"
        ),
    ] = "temperature",
    out_path: Annotated[
        Path, typer.Option("--out", help="Where to save the calibrator (JSON).")
    ] = Path("calibrator.json"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit summary as JSON.")] = False,
    label_col: Annotated[str | None, typer.Option(help="Label column (default: detected).")] = None,
    logit_key: Annotated[str | None, typer.Option(help="NPZ array of logits.")] = None,
    prob_key: Annotated[str | None, typer.Option(help="NPZ array of probabilities.")] = None,
    label_key: Annotated[str | None, typer.Option(help="NPZ array of labels.")] = None,
) -> None:
    """Fit a calibrator on FILE and save it as versioned JSON (logits are used when the file has them)."""
    from confide.cli._calibrate import run_calibrate

    run_calibrate(
        file,
        method=method,
        out_path=out_path,
        as_json=as_json,
        read_options={
            "label_col": label_col,
            "logit_key": logit_key,
            "prob_key": prob_key,
            "label_key": label_key,
        },
    )


@app.command("apply")
@handle_errors
def apply_calibrator(
    calibrator: Annotated[Path, typer.Argument(help="A calibrator saved by `confide calibrate`.")],
    file: Annotated[Path, typer.Argument(help="Predictions to calibrate (CSV, Parquet, NPZ).")],
    out_path: Annotated[
        Path, typer.Option("--out", help="Where to write calibrated predictions.")
    ] = Path("calibrated.parquet"),
    logit_key: Annotated[str | None, typer.Option(help="NPZ array of logits.")] = None,
    prob_key: Annotated[str | None, typer.Option(help="NPZ array of probabilities.")] = None,
    label_key: Annotated[str | None, typer.Option(help="NPZ array of labels.")] = None,
) -> None:
    """Apply a saved calibrator to FILE and write the calibrated probabilities."""
    from confide.cli._calibrate import run_apply

    run_apply(
        calibrator,
        file,
        out_path=out_path,
        read_options={"logit_key": logit_key, "prob_key": prob_key, "label_key": label_key},
    )


@app.command()
@handle_errors
def compare(
    val: Annotated[
        Path,
        typer.Argument(help="Validation predictions with labels: the calibrators are fitted here."),
    ],
    test: Annotated[
        Path, typer.Argument(help="Test predictions with labels: every method is scored here.")
    ],
    methods: Annotated[
        str | None, typer.Option(help="Comma-separated methods (default: all that apply).")
    ] = None,
    n_resamples: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    report: Annotated[
        Path | None,
        typer.Option(help="Write an HTML report with a reliability diagram per method."),
    ] = None,
) -> None:
    """Fit every calibrator on VAL and compare ECE, NLL, Brier and accuracy on TEST, with CIs."""
    from confide.cli._compare import run_compare

    run_compare(
        val,
        test,
        methods=[m.strip() for m in methods.split(",")] if methods else None,
        n_resamples=n_resamples,
        seed=seed,
        as_json=as_json,
        report=report,
    )


@app.command()
@handle_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo's files.")] = Path(
        "confide-demo"
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON on stdout.")
    ] = False,
) -> None:
    """An end-to-end tour on real model outputs shipped with confide."""
    from confide.cli._demo import run_demo

    run_demo(out_dir, as_json=as_json)


@app.callback()
def _root() -> None:
    """confide: score, measure, calibrate, decide, monitor."""
    _ = err


def _register_commands() -> None:
    """Commands that live beside their own code (each module's ``register(app)``)."""
    from confide.cli._active import register as register_active
    from confide.cli._monitor import register as register_monitor
    from confide.cli._policy import register as register_policy
    from confide.cli._serve import register as register_serve

    register_policy(app)
    register_monitor(app)
    register_serve(app)
    register_active(app)


_register_commands()
