"""Escalate an agent's step to people: the service's review queue as a ``confide.agent`` handler.

>>> from confide.agent import Gate
>>> queue = ReviewQueue("http://127.0.0.1:8000", api_key, model="support-answers")
>>> gate = Gate(answer, policy=0.8, escalate=queue)           # doctest: +SKIP

The model is registered once with two classes, ``["wrong", "right"]`` (no calibrator: the gate
already calibrated the confidence). Each escalation becomes one prediction with probabilities
``[1 - c, c]`` and ``escalate`` set, so the service stores it and queues it for review whatever
the policy says; the payload shows the reviewer the input, the answer and the gate's reason.
Only the standard library is used (``urllib``), so agents need no HTTP package.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from confide.agent import EscalationRequest, Resolution
from confide.exceptions import ConfideError

__all__ = ["ReviewQueue", "ReviewQueueError"]


class ReviewQueueError(ConfideError):
    """The service refused or could not be reached; the message carries its problem detail."""


def _urllib_post(
    url: str, body: dict[str, Any] | None, headers: dict[str, str], timeout: float
) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as JSON (a GET when it is None); returns (status, parsed JSON)."""
    data = None if body is None else json.dumps(body, default=str).encode()
    request = urllib.request.Request(
        url, data=data, headers={**headers, "content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return int(exc.code), json.loads(exc.read() or b"{}")
        except json.JSONDecodeError:
            return int(exc.code), {"detail": str(exc)}
    except urllib.error.URLError as exc:
        raise ReviewQueueError(
            f"the review queue at {url} cannot be reached: {exc.reason}"
        ) from None


class ReviewQueue:
    """A ``submit(request)`` handler for :class:`confide.agent.Gate` posting to the service.

    Parameters
    ----------
    base_url : str
        The service, e.g. ``"http://127.0.0.1:8000"``.
    api_key : str
        An ``ingest`` key.
    model : str
        A model registered with ``classes=["wrong", "right"]``.
    timeout : float, default 10
    post : callable, optional
        ``post(url, body, headers, timeout) -> (status, json)`` (a GET when ``body`` is None);
        default: ``urllib``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        model: str,
        timeout: float = 10.0,
        post: Callable[
            [str, dict[str, Any] | None, dict[str, str], float], tuple[int, dict[str, Any]]
        ]
        | None = None,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/api/v1/models/{model}/predictions"
        self.model = model
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._post = post or _urllib_post

    def submit(self, request: EscalationRequest) -> dict[str, Any]:
        """Queue the escalated step; returns the ticket ``{prediction_id, client_id, model}``."""
        c = 0.5 if request.confidence is None else min(max(float(request.confidence), 0.0), 1.0)
        client_id = f"{request.gate}-{uuid.uuid4().hex}"
        body = {
            "input": "probabilities",
            "items": [
                {
                    "scores": [1.0 - c, c],
                    "client_id": client_id,
                    "escalate": request.reason[:400],
                    "payload": {
                        "text": str(request.output)[:4000],
                        "input": str(request.input)[:4000],
                        "gate": request.gate,
                        "attempts": len(request.trace.attempts),
                    },
                }
            ],
        }
        status, answer = self._post(self.url, body, self._headers, self.timeout)
        if status != 200:
            raise ReviewQueueError(
                f"the review queue refused the escalation ({status}): {answer.get('detail', answer)}"
            )
        item = answer["items"][0]
        return {"prediction_id": item["id"], "client_id": client_id, "model": self.model}

    def result(self, ticket: dict[str, Any]) -> Resolution | None:
        """The person's answer to an escalation, once reviewed: a :class:`Resolution` whose
        ``output`` is ``"right"`` or ``"wrong"`` (the reviewer's label), or None while pending.

        Polling this is how an agent picks up a human decision later (the gate does not wait).
        """
        status, answer = self._post(
            f"{self.url}/{int(ticket['prediction_id'])}", None, self._headers, self.timeout
        )
        if status != 200:
            raise ReviewQueueError(
                f"the review queue refused the look-up ({status}): {answer.get('detail', answer)}"
            )
        if answer.get("true_label") is None:
            return None
        return Resolution(
            output=answer["true_label"], by=str(answer.get("true_label_source") or "person")
        )
