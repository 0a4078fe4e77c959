"""``confide demo``: an end-to-end tour on real model outputs shipped with confide.

Score, measure and report; calibrate (temperature scaling); decide (a certified accept /
review policy and conformal sets); monitor (a stream whose class prior shifts, with drift
tests, label-free accuracy and alerts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from confide.cli._console import err, out, print_json
from confide.cli._evaluate import evaluate_arrays, metrics_table, write_outputs
from confide.datasets import load_cifar10_lt_densenet40, load_cifar10_vgg16


def run_demo(out_dir: Path, *, as_json: bool = False) -> dict[str, Any]:
    from confide import scores

    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"out_dir": str(out_dir), "steps": []}
    for data in (load_cifar10_vgg16(), load_cifar10_lt_densenet40("test")):
        err.print(
            f"[bold]{data.name}[/]: {data.y_true.shape[0]} predictions ({data.source}, {data.license})"
        )
        # 1. Score: confidence and uncertainty from the raw outputs.
        conf = scores.max_prob(data.probs)
        ent = scores.entropy(data.probs, normalize=True)
        # 2. Measure: every metric with a 95% bootstrap interval.
        report = evaluate_arrays(
            data.y_true, data.probs, n_bins=15, confidence_level=0.95, n_resamples=200, seed=0
        )
        html = out_dir / f"{data.name}.html"
        png = out_dir / f"{data.name}_reliability.png"
        plot = png if _has_matplotlib() else None
        write_outputs(
            report,
            data.y_true,
            data.probs,
            title=f"confide demo — {data.name}",
            plot=plot,
            html=html,
        )
        step = {
            "dataset": data.to_dict(),
            "mean_confidence": float(conf.mean()),
            "mean_normalized_entropy": float(ent.mean()),
            "report": report.to_dict(),
            "html": str(html),
            "plot": str(plot) if plot else None,
        }
        results["steps"].append(step)
        if not as_json:
            out.print(metrics_table(report, f"{data.name}: {report.n_samples} samples"))
            mean_conf = float(conf.mean())
            gap = report["accuracy"] - mean_conf
            verdict = "over-confident" if gap < 0 else "under-confident"
            out.print(
                f"mean confidence {mean_conf:.4f} vs accuracy {report['accuracy']:.4f}: "
                f"{verdict} by {abs(gap):.4f}; top-label ECE {report['ece']:.4f}. Report: {html}\n"
            )
    results["calibration"] = _calibration_step(out_dir, as_json=as_json)
    results["decision"] = _decision_step(out_dir, as_json=as_json)
    from confide.cli._monitor import monitor_demo

    results["monitoring"] = monitor_demo(out_dir, as_json=as_json)
    from confide.cli._demo_serve import serve_demo

    results["service"] = serve_demo(out_dir, as_json=as_json)
    if as_json:
        print_json(results)
    return results


def _calibration_step(out_dir: Path, *, as_json: bool) -> dict[str, Any]:
    """3. Calibrate: temperature scaling fitted on the validation split, judged on the test split."""
    from confide.calibration import TemperatureScaling
    from confide.metrics import ece, log_loss

    val, test = load_cifar10_lt_densenet40("val"), load_cifar10_lt_densenet40("test")
    if val.logits is None or test.logits is None:  # pragma: no cover - the shipped file has both
        raise RuntimeError("the shipped DenseNet-40 file has no logits")
    cal = TemperatureScaling().fit(val.logits, val.y_true)
    path = cal.save(out_dir / "densenet40_temperature.json")
    calibrated = cal.predict_proba(test.logits)
    step = {
        "method": "temperature",
        "temperature": cal.temperature_,
        "calibrator": str(path),
        "test_ece_before": ece(test.y_true, test.probs),
        "test_ece_after": ece(test.y_true, calibrated),
        "test_nll_before": log_loss(test.y_true, test.probs),
        "test_nll_after": log_loss(test.y_true, calibrated),
    }
    if not as_json:
        out.print(
            f"[bold]calibration[/]: temperature scaling fitted on {val.y_true.shape[0]} validation "
            f"predictions: T = {cal.temperature_:.4f}. On the test split ECE "
            f"{step['test_ece_before']:.4f} -> {step['test_ece_after']:.4f}, NLL "
            f"{step['test_nll_before']:.4f} -> {step['test_nll_after']:.4f} "
            f"(authors' log: 0.2108 -> 0.0616). Saved: {path}"
        )
    return step


def _decision_step(out_dir: Path, *, as_json: bool) -> dict[str, Any]:
    """4. Decide: a certified accept / review policy and conformal sets on calibrated outputs.

    The test split's calibrated probabilities are cut in two seeded halves: the policy and the
    conformal quantile are fitted on one and judged on the other, as new data would judge them.
    """
    import numpy as np

    from confide.calibration import load
    from confide.decision import ConformalClassifier, ThresholdPolicy, evaluate_policy

    test = load_cifar10_lt_densenet40("test")
    cal = load(out_dir / "densenet40_temperature.json")
    probs = cal.predict_proba(test.logits)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == test.y_true
    order = np.random.default_rng(0).permutation(conf.shape[0])
    fit_idx, new_idx = order[: order.shape[0] // 2], order[order.shape[0] // 2 :]
    max_error, delta = 0.05, 0.05
    policy = ThresholdPolicy.fit(correct[fit_idx], conf[fit_idx], max_error=max_error, delta=delta)
    path = policy.save(out_dir / "densenet40_policy.json")
    judged = evaluate_policy(policy, correct[new_idx], conf[new_idx])
    sets = ConformalClassifier(score="aps", randomized=True, confidence_level=0.9, seed=0)
    sets.fit(probs[fit_idx], test.y_true[fit_idx])
    set_eval = sets.evaluate(probs[new_idx], test.y_true[new_idx])
    step = {
        "max_error": max_error,
        "delta": delta,
        "threshold": policy.threshold,
        "policy": str(path),
        "new_data": judged.to_dict(),
        "conformal": set_eval.to_dict(),
    }
    if not as_json:
        out.print(
            f"[bold]decision[/]: accept when calibrated confidence >= {policy.threshold:.4f} "
            f"(error among accepted <= {max_error:.0%} with probability >= {1 - delta:.0%}). "
            f"On new data it accepts {judged.accept_rate:.1%} automatically with "
            f"{judged.error:.2%} errors (upper bound {judged.error_upper_bound:.2%}); "
            f"{judged.review_rate:.1%} go to review. Saved: {path}\n"
            f"[bold]conformal sets[/] (APS, 90%): coverage {set_eval.coverage:.3f}, mean size "
            f"{set_eval.mean_size:.2f}, singletons {set_eval.singleton_rate:.1%}."
        )
    return step


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True
