"""Demo step 6: the service beside the model, in-process, on an embedded SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from confide.cli._console import err, out

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def serve_demo(out_dir: Path, *, as_json: bool) -> dict[str, Any]:
    """Register the calibrated DenseNet-40 with its policy, stream the test split through the API,
    send back labels for part of it, read the live metrics and recalibrate from feedback."""
    try:
        from fastapi.testclient import TestClient

        from confide.service import Settings, create_app
        from confide.store import create_engine, keys, upgrade
    except ImportError:
        err.print(
            "[dim]service step skipped: install the extra with pip install 'confide[service]'[/]"
        )
        return {"skipped": "the service extra is not installed"}
    import numpy as np

    from confide.calibration import load
    from confide.datasets import load_cifar10_lt_densenet40
    from confide.decision import load_policy

    db_path = out_dir / "confide.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    engine = create_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        _, admin = keys.create_key(conn, name="demo-admin", role="admin", actor="demo")
        _, reviewer = keys.create_key(conn, name="demo-reviewer", role="reviewer", actor="demo")
    (out_dir / "reviewer-key.txt").write_text(reviewer + "\n")
    cal = load(out_dir / "densenet40_temperature.json")
    policy = load_policy(out_dir / "densenet40_policy.json")
    test = load_cifar10_lt_densenet40("test")
    assert test.logits is not None
    h = {"Authorization": f"Bearer {admin}"}
    with TestClient(create_app(Settings(db_url=url), engine=engine)) as client:
        r = client.post(
            "/api/v1/models",
            headers=h,
            json={
                "name": "densenet40-cifar10lt",
                "classes": CIFAR10,
                "calibrator": cal.to_dict(),
                "policy": policy.to_dict(),
            },
        )
        r.raise_for_status()
        decisions: dict[str, int] = {}
        for start in range(0, test.logits.shape[0], 1000):
            part = test.logits[start : start + 1000]
            items = [
                {
                    "scores": row.tolist(),
                    "client_id": f"test-{start + i}",
                    "payload": {"text": f"CIFAR-10 test image #{start + i}"},
                }
                for i, row in enumerate(part)
            ]
            r = client.post(
                "/api/v1/models/densenet40-cifar10lt/predictions",
                headers=h,
                json={"input": "logits", "items": items},
            )
            r.raise_for_status()
            for it in r.json()["items"]:
                decisions[it["decision"]] = decisions.get(it["decision"], 0) + 1
        labelled = np.random.default_rng(0).permutation(test.y_true.shape[0])[
            : test.y_true.shape[0] // 3
        ]
        fb = [{"client_id": f"test-{i}", "label": CIFAR10[int(test.y_true[i])]} for i in labelled]
        client.post(
            "/api/v1/feedback", headers=h, json={"model": "densenet40-cifar10lt", "items": fb}
        ).raise_for_status()
        metrics = client.get("/api/v1/models/densenet40-cifar10lt/metrics", headers=h).json()
        recal = client.post(
            "/api/v1/models/densenet40-cifar10lt/recalibrate",
            headers=h,
            json={"method": "temperature"},
        ).json()
    step = {
        "database": url,
        "decisions": decisions,
        "metrics": metrics,
        "recalibration": recal,
        "reviewer_key_file": str(out_dir / "reviewer-key.txt"),
    }
    if not as_json:
        fbm = metrics["feedback"]
        estimate = metrics["label_free"]["accuracy"]
        out.print(
            f"[bold]service[/]: {sum(decisions.values())} predictions through POST /api/v1/models/"
            f"densenet40-cifar10lt/predictions into {db_path}: {decisions.get('accept', 0)} accepted, "
            f"{decisions.get('review', 0)} queued for review. Feedback on {fbm['n_labelled']}: live "
            f"accuracy {fbm['accuracy']:.3f}, ECE {fbm['ece']:.4f}, error among accepted "
            f"{fbm['accepted_error_rate']:.2%}. The label-free estimate ({estimate:.3f}) trusts the "
            f"calibrator; feedback shows it is over-confident on this stream by "
            f"{estimate - fbm['accuracy']:.3f}, which recalibrating from feedback corrects: "
            f"calibrator v{recal['calibrator_version']}, holdout ECE {recal['ece_current']:.4f} -> "
            f"{recal['ece_new']:.4f}.\n"
            f"Review the queue in a browser: confide serve --db {url} then open "
            f"http://127.0.0.1:8000/review and log in with the key in {out_dir / 'reviewer-key.txt'}."
        )
    return step
