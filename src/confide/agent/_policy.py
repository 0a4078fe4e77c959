"""Gate policies: map what an attempt produced to the next :class:`Action`, as data.

A policy sees an :class:`Observation` (confidence, failure class, attempt numbers, what is
left of the budget, the next fallback route) and returns an :class:`Action`. The gate carries
it out; the policy never calls anything. Failure classes are kept apart:

* ``transport`` (no answer): retried with the *same* input, never with feedback;
* ``invalid`` (an unusable answer): refined with feedback built from the validation error;
* ``low_confidence``: fallback to the next route, or escalate, or abort;
* ``error`` (an unexpected exception, usually a bug): abort at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from confide._validation import check_choice, check_positive_int
from confide.agent._trace import Action
from confide.decision import ThresholdPolicy
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = ["GatePolicy", "Observation", "ThresholdGatePolicy"]


@dataclass(frozen=True)
class Observation:
    """What a policy sees after one attempt.

    Attributes
    ----------
    index : int
        0-based number of the attempt within the call.
    route : str
        The route just called.
    failure : str or None
        ``"transport"``, ``"invalid"``, ``"error"``, or None when an answer was scored (the
        policy decides whether it is low confidence).
    confidence : float or None
        Calibrated confidence of the answer (None when there is no answer).
    scores : mapping
        Raw scores of the answer.
    error : str or None
        The error message of a failed attempt.
    route_attempts : int
        Attempts on this route so far, this one included.
    route_refines, route_retries : int
        Refinements / transport retries already made on this route.
    next_route : str or None
        The next fallback route not yet tried, if any.
    remaining : mapping
        What is left of the budget (None: unlimited).
    """

    index: int
    route: str
    failure: str | None
    confidence: float | None
    scores: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    route_attempts: int = 1
    route_refines: int = 0
    route_retries: int = 0
    next_route: str | None = None
    remaining: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class GatePolicy(Protocol):
    """Anything with ``decide(observation) -> Action``."""

    def decide(self, observation: Observation) -> Action: ...


def _fmt_scores(scores: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:.3g}" for k, v in scores.items())


class ThresholdGatePolicy:
    """Accept at a confidence threshold; retry transport errors; refine invalid answers.

    Parameters
    ----------
    accept_at : float
        Accept an answer whose (calibrated) confidence is ``>= accept_at``.
    refine_below : float or None
        Answers with ``refine_below <= confidence < accept_at`` are refined (with feedback
        naming the scores) before falling back; None never refines on confidence alone.
    escalate_below : float or None
        Answers with ``confidence < escalate_below`` go straight to a person.
    max_retries : int, default 2
        Transport retries per route before falling back (0: fall back at once).
    max_refines : int, default 1
        Refinements per route (invalid answers or ``refine_below``) before falling back.
    retry_on_transport : bool, default True
        False: a transport error falls back (or aborts) without retrying.
    when_exhausted : {"escalate", "abort"}, default "escalate"
        What a low-confidence or invalid answer leads to when no route is left.

    Notes
    -----
    A policy fitted with guarantees (:meth:`confide.decision.ThresholdPolicy.fit`, Learn then
    Test) converts with :meth:`from_threshold_policy`: its threshold becomes ``accept_at`` and
    its guarantee (error among accepted answers ``<= max_error`` with probability
    ``>= 1 - delta``) carries over when the gate applies the same calibrator the policy was
    fitted on and the first route's answers are accepted. Retries and fallbacks change the
    population of accepted answers, so the guarantee is stated per attempt, not per call.

    Accepting only when :math:`\\hat c(x) \\ge t` is selective prediction: the answer is kept
    on the region :math:`\\{x : \\hat c(x) \\ge t\\}` and deferred elsewhere.

    References
    ----------
    Geifman, Y. and El-Yaniv, R. (2017). Selective classification for deep neural networks.
    Advances in Neural Information Processing Systems 30.
    """

    def __init__(
        self,
        accept_at: float,
        *,
        refine_below: float | None = None,
        escalate_below: float | None = None,
        max_retries: int = 2,
        max_refines: int = 1,
        retry_on_transport: bool = True,
        when_exhausted: str = "escalate",
    ) -> None:
        self.accept_at = self._level(accept_at, "accept_at")
        self.refine_below = (
            None if refine_below is None else self._level(refine_below, "refine_below")
        )
        self.escalate_below = (
            None if escalate_below is None else self._level(escalate_below, "escalate_below")
        )
        for name, value in (
            ("refine_below", self.refine_below),
            ("escalate_below", self.escalate_below),
        ):
            if value is not None and value > self.accept_at:
                raise ValidationError(
                    f"{name} ({value!r}) must not exceed accept_at ({self.accept_at!r})."
                )
        self.max_retries = check_positive_int(max_retries, "max_retries", minimum=0)
        self.max_refines = check_positive_int(max_refines, "max_refines", minimum=0)
        self.retry_on_transport = bool(retry_on_transport)
        self.when_exhausted = check_choice(when_exhausted, "when_exhausted", ("escalate", "abort"))

    @staticmethod
    def _level(value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfideTypeError(f"{name} must be a number, got {value!r}.")
        v = float(value)
        if v != v:
            raise ValidationError(f"{name} must not be NaN.")
        return v

    @classmethod
    def from_threshold_policy(cls, policy: ThresholdPolicy, **kwargs: Any) -> ThresholdGatePolicy:
        """Use a :class:`confide.decision.ThresholdPolicy` threshold as ``accept_at``.

        Its ``below`` action sets ``when_exhausted`` (``"review"`` → escalate, ``"reject"`` →
        abort) unless given.
        """
        if not isinstance(policy, ThresholdPolicy):
            raise ConfideTypeError(
                f"from_threshold_policy needs a confide.decision.ThresholdPolicy, got "
                f"{type(policy).__name__}. Fit one with ThresholdPolicy.fit(correct, confidence, "
                "max_error=...)."
            )
        kwargs.setdefault("when_exhausted", "escalate" if policy.below == "review" else "abort")
        return cls(policy.threshold, **kwargs)

    def _give_up(self, obs: Observation, why: str) -> Action:
        if obs.next_route is not None:
            return Action("fallback", reason=f"{why}; falling back", target=obs.next_route)
        return Action(self.when_exhausted, reason=f"{why}; no route left")

    def decide(self, observation: Observation) -> Action:
        """The next action for ``observation`` (see the class docstring for the rules)."""
        obs = observation
        if obs.failure == "error":
            return Action("abort", reason=f"unexpected error: {obs.error}")
        if obs.failure == "transport":
            if self.retry_on_transport and obs.route_retries < self.max_retries:
                return Action("retry", reason=f"transport error: {obs.error}")
            if obs.next_route is not None:
                return Action(
                    "fallback", reason=f"transport error: {obs.error}", target=obs.next_route
                )
            return Action("abort", reason=f"transport error: {obs.error}; no route left")
        if obs.failure == "invalid":
            if obs.route_refines < self.max_refines:
                return Action(
                    "refine",
                    reason=f"invalid output: {obs.error}",
                    feedback=(
                        f"Your previous answer could not be used: {obs.error}. "
                        "Answer again and fix this."
                    ),
                )
            return self._give_up(obs, f"invalid output: {obs.error}")
        c = obs.confidence
        if c is None:
            return Action("abort", reason="no confidence for the answer")
        if c >= self.accept_at:
            return Action("accept", reason=f"confidence {c:.4g} >= {self.accept_at:.4g}")
        low = f"confidence {c:.4g} < {self.accept_at:.4g}"
        if self.escalate_below is not None and c < self.escalate_below:
            return Action(
                "escalate", reason=f"{low} and < escalate_below {self.escalate_below:.4g}"
            )
        if (
            self.refine_below is not None
            and c >= self.refine_below
            and obs.route_refines < self.max_refines
        ):
            detail = _fmt_scores(obs.scores)
            return Action(
                "refine",
                reason=low,
                feedback=(
                    f"Your previous answer had low confidence ({c:.3g}, needed {self.accept_at:.3g}"
                    + (f"; scores: {detail}" if detail else "")
                    + "). Check it and answer again."
                ),
            )
        return self._give_up(obs, low)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accept_at": self.accept_at,
            "refine_below": self.refine_below,
            "escalate_below": self.escalate_below,
            "max_retries": self.max_retries,
            "max_refines": self.max_refines,
            "retry_on_transport": self.retry_on_transport,
            "when_exhausted": self.when_exhausted,
        }
