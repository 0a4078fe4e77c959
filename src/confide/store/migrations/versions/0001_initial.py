"""Initial tables: keys, models with versioned calibrators and policies, predictions, reviews,
feedback, the append-only audit trail, monitor state, alerts and reviewer sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Time = sa.Float(precision=53)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_table(
        "models",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("classes", sa.JSON, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("name", name="uq_models_name"),
    )
    for table in ("calibrators", "policies"):
        extra = (
            [sa.Column("source", sa.String(40), nullable=False)] if table == "calibrators" else []
        )
        op.create_table(
            table,
            _id(),
            sa.Column("model_id", Id, nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("document", sa.JSON, nullable=False),
            *extra,
            sa.Column("created_at", Time, nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["model_id"], ["models.id"], name=f"fk_{table}_model_id_models"
            ),
            sa.UniqueConstraint("model_id", "version", name=f"uq_{table}_model_id_version"),
        )
    op.create_table(
        "predictions",
        _id(),
        sa.Column("model_id", Id, nullable=False),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("batch_id", sa.String(32), nullable=False),
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
        sa.Column("claimed_by", Id, nullable=True),
        sa.Column("claimed_at", Time, nullable=True),
        sa.Column("claim_expires_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name="fk_predictions_model_id_models"),
        sa.ForeignKeyConstraint(
            ["claimed_by"], ["api_keys.id"], name="fk_predictions_claimed_by_api_keys"
        ),
        sa.UniqueConstraint("model_id", "client_id", name="uq_predictions_model_id_client_id"),
    )
    op.create_index("ix_predictions_batch_id", "predictions", ["batch_id"])
    op.create_index("ix_predictions_queue", "predictions", ["model_id", "review_state", "priority"])
    op.create_table(
        "reviews",
        _id(),
        sa.Column("prediction_id", Id, nullable=False),
        sa.Column("reviewer_id", Id, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("label", sa.Integer, nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("seconds", sa.Float(precision=53), nullable=True),
        sa.Column("undone_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.ForeignKeyConstraint(
            ["prediction_id"], ["predictions.id"], name="fk_reviews_prediction_id_predictions"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["api_keys.id"], name="fk_reviews_reviewer_id_api_keys"
        ),
    )
    op.create_index("ix_reviews_prediction_id", "reviews", ["prediction_id"])
    op.create_table(
        "feedback",
        _id(),
        sa.Column("prediction_id", Id, nullable=False),
        sa.Column("label", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("review_id", Id, nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("retracted_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(
            ["prediction_id"], ["predictions.id"], name="fk_feedback_prediction_id_predictions"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name="fk_feedback_review_id_reviews"
        ),
    )
    op.create_index("ix_feedback_prediction_id", "feedback", ["prediction_id"])
    op.create_table(
        "audit_events",
        _id(),
        sa.Column("at", Time, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=True),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("seconds", sa.Float(precision=53), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_table(
        "monitor_state",
        sa.Column("model_id", Id, nullable=False),
        sa.Column("detector", sa.JSON, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_monitor_state"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_monitor_state_model_id_models"
        ),
    )
    op.create_table(
        "alerts",
        _id(),
        sa.Column("model_id", Id, nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name="fk_alerts_model_id_models"),
    )
    op.create_index("ix_alerts_model_id", "alerts", ["model_id"])
    op.create_table(
        "sessions",
        _id(),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("key_id", Id, nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], name="fk_sessions_key_id_api_keys"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
    )
    _append_only("audit_events")


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` inside the database itself."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION confide_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION confide_append_only()"
        )


def downgrade() -> None:
    for table in (
        "sessions",
        "alerts",
        "monitor_state",
        "audit_events",
        "feedback",
        "reviews",
        "predictions",
        "policies",
        "calibrators",
        "models",
        "api_keys",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS confide_append_only()")
