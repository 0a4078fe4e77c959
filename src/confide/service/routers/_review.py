"""The review queue in the browser: server-rendered pages, a session per reviewer, CSRF on forms."""

from __future__ import annotations

import csv
import hmac
import io
import json
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from confide.service._auth import SESSION_COOKIE
from confide.store import ApiKey, ConflictError, NotFoundError, keys, now, reading
from confide.store import review as review_store
from confide.store._schema import models, predictions

router = APIRouter(prefix="/review", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
_NO_STORE = {"Cache-Control": "no-store"}


def _who(request: Request) -> tuple[ApiKey, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with reading(request.app.state.engine) as conn:
        found = keys.resolve_session(conn, token)
    if found is None or found[0].role not in ("reviewer", "admin"):
        return None
    return found


def _to(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=_NO_STORE)


def _page(
    request: Request, name: str, who: tuple[ApiKey, str] | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    flash = request.query_params.get("msg")
    context = {
        "who": who[0] if who else None,
        "csrf": who[1] if who else "",
        "flash": ctx.pop("flash", flash),
        "flash_error": ctx.pop("flash_error", request.query_params.get("err") == "1"),
        **ctx,
    }
    return templates.TemplateResponse(request, name, context, status_code=status, headers=_NO_STORE)


def _refuse_form(who: tuple[ApiKey, str] | None, csrf: str) -> Response | None:
    """Where a form post must go instead: the login page without a session, the queue with a
    message when the CSRF token does not match; None when the post may proceed."""
    if who is None:
        return _to("/review/login")
    if not _csrf_ok(who, csrf):
        return _to("/review?err=1&msg=Your+form+expired%3A+try+again.")
    return None


def _csrf_ok(who: tuple[ApiKey, str], token: str) -> bool:
    return hmac.compare_digest(who[1].encode(), (token or "").encode())


_LOGIN_COOKIE = "confide_login"


def _login_form(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    """The login page with a fresh double-submit token: the same random value in a cookie and
    in the form, so another site cannot post a login (login CSRF) before a session exists."""
    token = secrets.token_urlsafe(24)
    response = _page(request, "login.html", None, status=status, login_csrf=token, **ctx)
    response.set_cookie(
        _LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/review/login",
        secure=request.app.state.settings.secure_cookies,
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request)


@router.post("/login")
def login(request: Request, key: str = Form(""), csrf: str = Form("")) -> Response:
    cookie = request.cookies.get(_LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf.encode()):
        return _login_form(
            request,
            status=400,
            flash_error=True,
            flash="The login form expired or came from another site: try again.",
        )
    with request.app.state.engine.begin() as conn:
        found = keys.authenticate(conn, key)
        if found is None or found.role not in ("reviewer", "admin"):
            return _login_form(
                request,
                status=401,
                flash_error=True,
                flash="That key is unknown, revoked, or not a reviewer key.",
            )
        token, _csrf = keys.create_session(
            conn, found, ttl_seconds=request.app.state.settings.session_hours * 3600
        )
    response = _to("/review")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/review",
        secure=request.app.state.settings.secure_cookies,
        max_age=int(request.app.state.settings.session_hours * 3600),
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    who = _who(request)
    if who is not None and _csrf_ok(who, csrf):
        with request.app.state.engine.begin() as conn:
            keys.end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
    response = _to("/review/login")
    response.delete_cookie(SESSION_COOKIE, path="/review")
    return response


def _queue_items(conn: Any, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            predictions.c.id,
            predictions.c.label,
            predictions.c.confidence,
            predictions.c.reason,
            models.c.name,
            models.c.classes,
        )
        .join(models, models.c.id == predictions.c.model_id)
        .where(predictions.c.review_state == "pending")
        .order_by(predictions.c.priority, predictions.c.id)
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "model": r.name,
            "predicted": r.classes[r.label],
            "confidence": r.confidence,
            "reason": r.reason,
        }
        for r in rows
    ]


@router.get("", response_class=HTMLResponse)
def queue(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _to("/review/login")
    with reading(request.app.state.engine) as conn:
        stats = review_store.queue_stats(conn)
        items = _queue_items(conn)
    total = stats["done"] + stats["pending"]
    progress = 100.0 * stats["done"] / total if total else 100.0
    return _page(
        request,
        "queue.html",
        who,
        stats=stats,
        items=items,
        progress=round(progress, 1),
        order=request.app.state.settings.queue_order,
    )


@router.post("/next")
def next_item(request: Request, csrf: str = Form("")) -> Response:
    who = _who(request)
    refused = _refuse_form(who, csrf)
    if refused is not None or who is None:
        return refused or _to("/review/login")
    with request.app.state.engine.begin() as conn:
        item = review_store.claim_next(
            conn, who[0], ttl_seconds=request.app.state.settings.claim_seconds
        )
    if item is None:
        return _to("/review?msg=Nothing+left+to+review.")
    return _to(f"/review/items/{item}")


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(item_id: int, request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _to("/review/login")
    t = now()
    with reading(request.app.state.engine) as conn:
        row = conn.execute(
            sa.select(predictions, models.c.name.label("model"), models.c.classes)
            .join(models, models.c.id == predictions.c.model_id)
            .where(predictions.c.id == item_id)
        ).first()
        stats = review_store.queue_stats(conn)
    if (
        row is None
        or row.review_state != "pending"
        or row.claimed_by != who[0].id
        or (row.claim_expires_at or 0) <= t
    ):
        return _to("/review?msg=That+item+is+not+yours+to+review+now.")
    classes = list(row.classes)
    probs = list(row.probs)
    alternatives = sorted(
        (
            {"index": j, "name": c, "prob": float(probs[j]), "key": str(j + 1) if j < 9 else None}
            for j, c in enumerate(classes)
        ),
        key=lambda a: -a["prob"],
    )
    payload = dict(row.payload or {})
    text = payload.pop("text", None)
    fields = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in payload.items()]
    return _page(
        request,
        "item.html",
        who,
        item=row,
        model=row.model,
        predicted=classes[row.label],
        alternatives=alternatives,
        text=text,
        fields=fields,
        stats=stats,
        expires_in=int((row.claim_expires_at or t) - t),
    )


@router.post("/items/{item_id}")
def review_item(
    item_id: int, request: Request, choice: str = Form(""), csrf: str = Form("")
) -> Response:
    who = _who(request)
    refused = _refuse_form(who, csrf)
    if refused is not None or who is None:
        return refused or _to("/review/login")
    action, _, label = choice.partition(":")
    ttl = request.app.state.settings.claim_seconds
    try:
        with request.app.state.engine.begin() as conn:
            review_store.submit_review(
                conn, who[0], item_id, action=action, label=int(label) if label.isdigit() else None
            )
            nxt = review_store.claim_next(conn, who[0], ttl_seconds=ttl)
    except (ConflictError, NotFoundError, ValueError) as exc:
        return _to(f"/review?err=1&msg={_quote(str(exc))}")
    return _to(f"/review/items/{nxt}" if nxt is not None else "/review?msg=Nothing+left+to+review.")


@router.post("/undo")
def undo(request: Request, csrf: str = Form("")) -> Response:
    who = _who(request)
    refused = _refuse_form(who, csrf)
    if refused is not None or who is None:
        return refused or _to("/review/login")
    ttl = request.app.state.settings.claim_seconds
    try:
        with request.app.state.engine.begin() as conn:
            # the item this reviewer holds now goes back to the queue before the undone one returns
            # (a plain look-up: claim_next would claim, and audit, a fresh item if none is held)
            held = conn.execute(
                sa.select(predictions.c.id).where(
                    predictions.c.review_state == "pending",
                    predictions.c.claimed_by == who[0].id,
                    predictions.c.claim_expires_at > now(),  # an expired claim is free already
                )
            ).scalars()
            for pid in held.all():
                review_store.release(conn, who[0], int(pid))
            done = review_store.undo_last(conn, who[0], ttl_seconds=ttl)
    except (ConflictError, NotFoundError) as exc:
        return _to(f"/review?err=1&msg={_quote(str(exc))}")
    return _to(f"/review/items/{done['prediction_id']}")


def _quote(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text[:300])


@router.get("/export.json")
def export_json(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _to("/review/login")
    with reading(request.app.state.engine) as conn:
        return JSONResponse({"reviews": review_store.export_reviews(conn)}, headers=_NO_STORE)


@router.get("/export.csv")
def export_csv(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _to("/review/login")
    with reading(request.app.state.engine) as conn:
        rows = review_store.export_reviews(conn)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={**_NO_STORE, "Content-Disposition": 'attachment; filename="reviews.csv"'},
    )
