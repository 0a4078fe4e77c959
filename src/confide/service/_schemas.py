"""Request bodies of the API (pydantic); responses are plain dicts documented in the routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FeedbackBatch",
    "FeedbackItem",
    "PredictionBatch",
    "PredictionItem",
    "Recalibrate",
    "RegisterModel",
]

NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"


class Costs(BaseModel):
    """What each outcome costs, in any unit (money, minutes): used by the live metrics."""

    model_config = ConfigDict(extra="forbid")

    accepted_error: float = Field(1.0, ge=0, description="An accepted prediction that is wrong.")
    review: float = Field(0.0, ge=0, description="Sending an item to a person.")
    reject: float = Field(0.0, ge=0, description="Rejecting an item.")


class RegisterModel(BaseModel):
    """A model (first call) or new calibrator/policy versions of it (later calls)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, description="Letters, digits, '.', '_' or '-'.")
    classes: list[str] = Field(
        min_length=2, max_length=10_000, description="Class names in score order."
    )
    calibrator: dict[str, Any] | None = Field(
        None, description="A calibrator's to_dict() document."
    )
    policy: dict[str, Any] | None = Field(
        None, description="A policy's to_dict() (or saved document)."
    )
    detector: dict[str, Any] | None = Field(
        None, description="A drift detector's to_dict() document (default: ADWIN on confidence)."
    )
    costs: Costs | None = Field(None, description="Costs of outcomes, stored with the policy.")


class PredictionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: list[float] = Field(min_length=2, description="One probability or logit per class.")
    client_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Your id; a retry with it returns the stored item.",
    )
    payload: dict[str, Any] | None = Field(None, description="Shown to reviewers (text, fields).")
    escalate: str | None = Field(
        None,
        max_length=400,
        description="Send the item to review whatever its confidence, with this reason "
        "(an agent's gate escalating to a person).",
    )


class PredictionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Literal["probabilities", "logits"] = "probabilities"
    items: list[PredictionItem] = Field(min_length=1)


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prediction_id: int | None = None
    client_id: str | None = None
    label: str | int = Field(description="The true class: its name, or its index.")


class FeedbackBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(pattern=NAME)
    items: list[FeedbackItem] = Field(min_length=1)


class Recalibrate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = Field(
        "temperature",
        description="A calibration method name (see /api/v1/methods), or 'auto': chosen by "
        "cross-validated NLL (confide.calibration.select_calibrator) on the fitting part.",
    )
    min_labels: int = Field(50, ge=10, description="Fewest labelled predictions to fit on.")
    holdout: float = Field(0.3, gt=0, lt=0.9, description="Share held out to compare old and new.")
    seed: int = 0
