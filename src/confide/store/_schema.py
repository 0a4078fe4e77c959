"""The service's tables (SQLAlchemy Core): one definition that the migrations mirror.

Times are UNIX seconds in double precision (``Float(53)``): the same on SQLite and PostgreSQL,
no time-zone round trips. JSON columns hold plain lists and dicts.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "alerts",
    "api_keys",
    "audit_events",
    "calibrators",
    "feedback",
    "metadata",
    "models",
    "monitor_state",
    "policies",
    "predictions",
    "reviews",
    "sessions",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Time = sa.Float(precision=53)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False, unique=True),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time, nullable=True),
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("classes", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

calibrators = sa.Table(
    "calibrators",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("model_id", Id, sa.ForeignKey("models.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("model_id", "version"),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("model_id", Id, sa.ForeignKey("models.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("costs", sa.JSON, nullable=True),
    sa.UniqueConstraint("model_id", "version"),
)

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("model_id", Id, sa.ForeignKey("models.id"), nullable=False),
    sa.Column("client_id", sa.String(200), nullable=True),
    sa.Column("batch_id", sa.String(32), nullable=False, index=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("input_kind", sa.String(20), nullable=False),
    sa.Column("scores", sa.JSON, nullable=False),
    sa.Column("probs", sa.JSON, nullable=False),
    sa.Column("label", sa.Integer, nullable=False),
    sa.Column("raw_confidence", sa.Float(precision=53), nullable=False),
    sa.Column("confidence", sa.Float(precision=53), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("calibrator_version", sa.Integer, nullable=True),
    sa.Column("policy_version", sa.Integer, nullable=True),
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Column("review_state", sa.String(20), nullable=False),
    sa.Column("priority", sa.Float(precision=53), nullable=False),
    sa.Column("claimed_by", Id, sa.ForeignKey("api_keys.id"), nullable=True),
    sa.Column("claimed_at", Time, nullable=True),
    sa.Column("claim_expires_at", Time, nullable=True),
    sa.UniqueConstraint("model_id", "client_id"),
    sa.Index("ix_predictions_queue", "model_id", "review_state", "priority"),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("prediction_id", Id, sa.ForeignKey("predictions.id"), nullable=False, index=True),
    sa.Column("reviewer_id", Id, sa.ForeignKey("api_keys.id"), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("label", sa.Integer, nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("seconds", sa.Float(precision=53), nullable=True),
    sa.Column("undone_at", Time, nullable=True),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("prediction_id", Id, sa.ForeignKey("predictions.id"), nullable=False, index=True),
    sa.Column("label", sa.Integer, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("review_id", Id, sa.ForeignKey("reviews.id"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("retracted_at", Time, nullable=True),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("at", Time, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("entity", sa.String(40), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=True),
    sa.Column("before", sa.JSON, nullable=True),
    sa.Column("after", sa.JSON, nullable=True),
    sa.Column("seconds", sa.Float(precision=53), nullable=True),
)

monitor_state = sa.Table(
    "monitor_state",
    metadata,
    sa.Column("model_id", Id, sa.ForeignKey("models.id"), primary_key=True),
    sa.Column("detector", sa.JSON, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("model_id", Id, sa.ForeignKey("models.id"), nullable=False, index=True),
    sa.Column("at", Time, nullable=False),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("level", sa.String(20), nullable=False),
    sa.Column("message", sa.String(1000), nullable=False),
    sa.Column("value", sa.Float(precision=53), nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("key_id", Id, sa.ForeignKey("api_keys.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
)
