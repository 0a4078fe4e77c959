"""``confide active simulate``: replay a labelling budget on a labelled table, strategy by strategy.

FILE (CSV or Parquet) holds numeric feature columns and a label column; it is read with
pandas (pyarrow for Parquet). The classifier is scikit-learn's ``LogisticRegression`` (the
``sklearn`` extra), imported when the command runs. The work is
:func:`confide.active.compare_strategies`: every strategy runs on the same seeds, splits and
initial labelled sets as the ``random`` baseline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from confide.active import STRATEGIES, StrategyComparison, compare_strategies
from confide.cli._console import err, handle_errors, out, print_json, progress
from confide.exceptions import MissingDependencyError, ValidationError

__all__ = ["read_features", "register", "run_simulate"]


def read_features(path: Path, label_col: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Numeric feature matrix, labels and the feature names of a CSV / Parquet table."""
    from confide.io._common import import_pandas, resolve_format

    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (looked in {path.resolve()}).")
    fmt = resolve_format(path, None)
    pd = import_pandas("Reading a feature table")
    if fmt == "parquet":
        frame = pd.read_parquet(path)
    elif fmt == "csv":
        frame = pd.read_csv(path)
    else:
        raise ValidationError(
            f"confide active simulate reads CSV or Parquet tables, got {str(path)!r} ({fmt})."
        )
    if label_col not in frame.columns:
        raise ValidationError(
            f"label column {label_col!r} not found in {str(path)!r}; its columns are "
            f"{[str(c) for c in frame.columns][:30]}. Pass --label-col with one of them."
        )
    y = frame[label_col].to_numpy()
    feats = frame.drop(columns=[label_col])
    numeric = feats.select_dtypes(include=["number", "bool"])
    dropped = [str(c) for c in feats.columns if c not in numeric.columns]
    if dropped:
        err.print(f"ignoring non-numeric column(s): {escape(', '.join(dropped[:20]))}")
    if numeric.shape[1] == 0:
        raise ValidationError(f"{str(path)!r} has no numeric feature column besides {label_col!r}.")
    if numeric.isna().to_numpy().any() or pd.isna(y).any():
        raise ValidationError(
            f"{str(path)!r} has missing values in the features or labels; impute or drop them."
        )
    return numeric.to_numpy(dtype=np.float64), y, [str(c) for c in numeric.columns]


def _logistic_regression(max_iter: int) -> Any:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise MissingDependencyError(
            "scikit-learn", "sklearn", "confide active simulate (its LogisticRegression)"
        ) from None
    return LogisticRegression(max_iter=max_iter)


def _one_blas_thread() -> Any:
    """Limit BLAS to one thread (many tiny fits thrash a thread pool); a no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def _ci(v: float, lo: float, hi: float, digits: int) -> str:
    if np.isnan(lo):
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def comparison_table(cmp: StrategyComparison) -> Table:
    """One row per strategy: final accuracy and ECE, labels to reach the baseline, saved."""
    base = cmp.result(cmp.baseline)
    table = Table(
        title=f"Active learning, {base.budget} labels, {len(base.seeds)} seeds "
        f"(95% t intervals over seeds; target: {cmp.baseline}'s final accuracy per seed)",
        title_justify="left",
    )
    for col in ("strategy", "final accuracy", "final ECE", "labels to reach", "reached", "saved"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    savings = {s.strategy: s for s in cmp.savings}
    for r in cmp.results:
        acc = _ci(r.mean_accuracy[-1], r.accuracy_low[-1], r.accuracy_high[-1], 3)
        cal = _ci(r.mean_ece[-1], r.ece_low[-1], r.ece_high[-1], 3)
        s = savings.get(r.strategy)
        lab = base.labels_to_reach(list(base.final_accuracy)) if s is None else s.labels
        saved = "—" if s is None else _ci(s.saved_mean, s.saved_low, s.saved_high, 0)
        table.add_row(
            escape(r.strategy),
            acc,
            cal,
            _ci(lab.mean, lab.low, lab.high, 0),
            f"{lab.n_reached}/{len(lab.per_seed)}",
            saved,
        )
    return table


def run_simulate(
    file: Path,
    *,
    label_col: str,
    strategies: list[str],
    budget: int,
    batch_size: int,
    initial_size: int,
    n_seeds: int,
    test_size: float,
    standardize: bool,
    max_iter: int,
    as_json: bool,
) -> StrategyComparison:
    """Read FILE, run the comparison, print the table (or JSON) on stdout."""
    for s in strategies:
        if s not in STRATEGIES:
            raise ValidationError(f"--strategy must be one of {', '.join(STRATEGIES)}; got {s!r}.")
    if n_seeds < 1:
        raise ValidationError(f"--seeds must be at least 1, got {n_seeds}.")
    X, y, names = read_features(file, label_col)
    if standardize:
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    estimator = _logistic_regression(max_iter)
    err.print(
        f"{X.shape[0]:,} rows, {len(names)} features, {np.unique(y).shape[0]} classes; "
        f"strategies {', '.join(strategies)} against random"
    )
    with _one_blas_thread(), progress("simulating", enabled=not as_json) as update:
        n_runs = len(dict.fromkeys(["random", *strategies]))
        state = {"offset": 0, "last": 0}

        def step(done: int, total: int) -> None:
            if done < state["last"]:  # the next strategy started
                state["offset"] += state["last"]
            state["last"] = done
            update(state["offset"] + done, n_runs * total)

        cmp = compare_strategies(
            estimator,
            X,
            y,
            strategies,
            budget=budget,
            batch_size=batch_size,
            initial_size=initial_size,
            seeds=tuple(range(n_seeds)),
            test_size=test_size,
            progress=step,
        )
    if as_json:
        print_json(cmp.to_dict())
    else:
        out.print(comparison_table(cmp))
    return cmp


def register(app: typer.Typer) -> None:
    """Add the ``active`` command group (``confide active simulate``) to ``app``."""
    group = typer.Typer(
        name="active",
        help="Active learning: which items to label next, and how many labels it saves.",
        no_args_is_help=True,
    )

    @group.command("simulate")
    @handle_errors
    def simulate_cmd(
        file: Annotated[Path, typer.Argument(help="Features and labels: CSV or Parquet.")],
        label_col: Annotated[str, typer.Option(help="The label column.")],
        strategy: Annotated[
            list[str] | None,
            typer.Option(help=f"Strategy (repeatable): {', '.join(STRATEGIES)}."),
        ] = None,
        budget: Annotated[int, typer.Option(help="Total labels, initial set included.")] = 200,
        batch_size: Annotated[int, typer.Option(help="Labels per round.")] = 20,
        initial_size: Annotated[int, typer.Option(help="Random initial labelled set.")] = 20,
        seeds: Annotated[int, typer.Option(help="Number of seeds (0..N-1).")] = 5,
        test_size: Annotated[float, typer.Option(help="Held-out test fraction per seed.")] = 0.25,
        standardize: Annotated[
            bool, typer.Option(help="Standardise the features (mean 0, sd 1).")
        ] = True,
        max_iter: Annotated[int, typer.Option(help="LogisticRegression max_iter.")] = 1000,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Simulate active learning on FILE with LogisticRegression; compare strategies to random."""
        run_simulate(
            file,
            label_col=label_col,
            strategies=list(strategy) if strategy else ["margin", "entropy", "least_confidence"],
            budget=budget,
            batch_size=batch_size,
            initial_size=initial_size,
            n_seeds=seeds,
            test_size=test_size,
            standardize=standardize,
            max_iter=max_iter,
            as_json=as_json,
        )

    app.add_typer(group)
