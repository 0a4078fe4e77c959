"""Prometheus metrics on a registry of the app's own (several apps can live in one process)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from confide.store import reading
from confide.store._schema import models, predictions

__all__ = ["Telemetry"]


class Telemetry:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "confide_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "confide_http_request_seconds", "Request latency", ["route"], registry=self.registry
        )
        self.predictions = Counter(
            "confide_predictions",
            "Predictions stored",
            ["model", "decision"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "confide_feedback", "Labels received", ["model", "source"], registry=self.registry
        )
        self.queue = Gauge(
            "confide_review_queue_pending",
            "Items waiting for review",
            ["model"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "confide_alerts", "Drift alerts raised", ["model"], registry=self.registry
        )

    def refresh(self, engine: Any) -> None:
        """Gauges read from the database at scrape time."""
        with reading(engine) as conn:
            rows = conn.execute(
                sa.select(models.c.name, sa.func.count(predictions.c.id))
                .select_from(
                    models.outerjoin(
                        predictions,
                        sa.and_(
                            predictions.c.model_id == models.c.id,
                            predictions.c.review_state == "pending",
                        ),
                    )
                )
                .group_by(models.c.name)
            )
            for name, n in rows:
                self.queue.labels(model=name).set(int(n))
