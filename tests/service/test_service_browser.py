"""The review page end to end: headless Chromium (Playwright) against a real uvicorn server.

A reviewer logs in with their key and works the queue with the keyboard only (accept, correct,
reject, undo); the audit trail, the live reviews and the feedback must show exactly that.
Also: claims keep two reviewers apart, ``?`` toggles the help, the pages work as plain HTML
forms without JavaScript, and a form POST without the CSRF token is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.service.live_server import CLASSES, LiveServer, create_keys, register_model

from confide.store import create_engine
from confide.store._schema import api_keys, feedback, predictions, reviews

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
N_REVIEW = 8
CSRF_RE = re.compile(r'name="csrf" value="([^"]*)"')


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    secrets = create_keys(url, admin="admin", ingest="ingest", alice="reviewer", bob="reviewer")
    server = LiveServer(url, tmp / "server.log").start()
    try:
        register_model(server.url, secrets["admin"], "pets", threshold=0.6)
        # N_REVIEW uncertain items (confidence 0.40, 0.41, ...: the queue shows lowest first),
        # then confident ones that pass straight through.
        items = []
        for i in range(N_REVIEW):
            top = 0.40 + 0.01 * i
            items.append(
                {
                    "scores": [top, (1 - top) * 0.6, (1 - top) * 0.4],
                    "client_id": f"u{i}",
                    "payload": {"text": f"item {i} <b>not bold</b>", "source": "test"},
                }
            )
        items += [{"scores": [0.05, 0.9, 0.05], "client_id": f"c{i}"} for i in range(4)]
        r = httpx.post(
            f"{server.url}/api/v1/models/pets/predictions",
            json={"input": "probabilities", "items": items},
            headers={"Authorization": f"Bearer {secrets['ingest']}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        decisions = [it["decision"] for it in r.json()["items"]]
        assert decisions.count("review") == N_REVIEW, decisions
        engine = create_engine(url)
        yield {"server": server, "keys": secrets, "engine": engine, "url": server.url}
        engine.dispose()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run the browser test")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _item_id(url: str) -> int:
    m = re.search(r"/review/items/(\d+)$", url)
    assert m, f"expected an item page, got {url}"
    return int(m.group(1))


def _press(page: Any, key: str) -> int:
    """Press ``key`` (keyboard only) and wait for the page it leads to; returns the item id."""
    time.sleep(0.25)  # a reviewer reads the item: time on item is measurable
    with page.expect_navigation():
        page.keyboard.press(key)
    return _item_id(page.url)


def _form_login(client: Any, key: str) -> Any:
    """Log in as a browser without JavaScript does: load the form (its token), post it."""
    form = client.get("/review/login")
    m = CSRF_RE.search(form.text)
    assert form.status_code == 200 and m
    return client.post("/review/login", data={"key": key, "csrf": m.group(1)})


def _no_js_login(base: str, key: str) -> tuple[httpx.Client, str]:
    """A client with no JavaScript at all: log in by form, read the CSRF token from the page."""
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    forged = client.post("/review/login", data={"key": key, "csrf": "forged"})
    assert forged.status_code == 400 and "expired or came from another site" in forged.text
    r = _form_login(client, key)
    assert r.status_code == 303 and r.headers["location"] == "/review"
    page = client.get("/review")
    assert page.status_code == 200 and "Start reviewing" in page.text
    m = CSRF_RE.search(page.text)
    assert m and m.group(1)
    return client, m.group(1)


def _key_id(engine: sa.Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(api_keys.c.id).where(api_keys.c.name == name)).scalar())


def test_reviewer_works_the_queue_with_the_keyboard(browser: Any, live: dict[str, Any]) -> None:
    base, engine = live["url"], live["engine"]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)

    # log in with the key: type it and press Enter
    page.goto(f"{base}/review")
    assert page.url.endswith("/review/login")
    page.keyboard.type(live["keys"]["alice"])  # the key field has autofocus
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/review")
    assert "alice (reviewer)" in page.content()
    assert f"0 reviewed · {N_REVIEW} waiting" in page.inner_text("main")

    # Start reviewing (Enter): the lowest-confidence item, claimed by alice
    first = _press(page, "Enter")
    assert "<b>not bold</b>" in page.inner_text("#payload-text")  # escaped, not markup
    assert page.inner_text("#predicted") == "cat"

    # a second reviewer (plain HTML forms, no JavaScript) never gets alice's item
    bob, bob_csrf = _no_js_login(base, live["keys"]["bob"])
    r = bob.post("/review/next", data={"csrf": bob_csrf})
    assert r.status_code == 303
    bob_item = _item_id(r.headers["location"])
    assert bob_item != first
    # ... and cannot open or review alice's item
    r = bob.get(f"/review/items/{first}")
    assert r.status_code == 303 and "not+yours" in r.headers["location"]

    # help toggles with "?"
    assert not page.eval_on_selector("#help", "e => e.open")
    page.keyboard.press("?")
    assert page.eval_on_selector("#help", "e => e.open")
    page.keyboard.press("?")
    assert not page.eval_on_selector("#help", "e => e.open")

    # a (accept), 2 (correct to class index 1, "dog"), r (reject), u (undo the reject)
    second = _press(page, "a")
    third = _press(page, "2")
    fourth = _press(page, "r")
    assert len({first, second, third, fourth, bob_item}) == 5
    undone = _press(page, "u")
    assert undone == third
    context.close()

    alice_id = _key_id(engine, "alice")
    with engine.connect() as conn:
        state = {
            r.id: r
            for r in conn.execute(
                sa.select(predictions).where(predictions.c.id.in_([first, second, third, fourth]))
            )
        }
        fb = conn.execute(sa.select(feedback).order_by(feedback.c.id)).all()
        revs = conn.execute(
            sa.select(reviews).where(reviews.c.reviewer_id == alice_id).order_by(reviews.c.id)
        ).all()
    # the undone item is back to pending and claimed by alice; the one she held is released
    assert state[third].review_state == "pending"
    assert state[third].claimed_by == alice_id
    assert state[third].claim_expires_at > time.time()
    assert state[fourth].review_state == "pending" and state[fourth].claimed_by is None
    assert state[first].review_state == "done" and state[second].review_state == "done"
    # feedback: accept -> predicted label (cat = 0), correct -> dog (1); nothing for the reject
    live_fb = {(f.prediction_id, f.label) for f in fb if f.retracted_at is None}
    assert (first, 0) in live_fb and (second, 1) in live_fb
    assert not [f for f in fb if f.prediction_id == third and f.retracted_at is None]
    assert {f.source for f in fb if f.prediction_id in (first, second)} == {"review"}
    # reviews: three, the reject undone; time on item recorded
    assert [(r.prediction_id, r.action, r.label) for r in revs] == [
        (first, "accept", 0),
        (second, "correct", 1),
        (third, "reject", None),
    ]
    assert [r.undone_at is not None for r in revs] == [False, False, True]
    assert all(r.seconds is not None and 0.2 <= r.seconds < 60 for r in revs)

    # the API shows the same: the audit trail in order, the live reviews
    admin = {"Authorization": f"Bearer {live['keys']['admin']}"}
    events = httpx.get(
        f"{base}/api/v1/audit", params={"entity": "prediction"}, headers=admin, timeout=30
    ).json()["events"]
    trail = [e for e in events if e["actor"] == "alice" and e["action"].startswith("review:")]
    assert [(e["action"], int(e["entity_id"])) for e in trail] == [
        ("review:accept", first),
        ("review:correct", second),
        ("review:reject", third),
        ("review:undo", third),
    ]
    accept, correct, reject, undo = trail
    assert accept["before"] == {"review_state": "pending", "label": 0}
    assert accept["after"]["review_state"] == "done" and accept["after"]["label"] == 0
    assert correct["before"] == {"review_state": "pending", "label": 0}
    assert correct["after"]["label"] == 1
    assert reject["after"]["review_state"] == "done" and reject["after"]["label"] is None
    assert undo["before"]["review_state"] == "done" and undo["before"]["action"] == "reject"
    assert undo["before"]["review_id"] == reject["after"]["review_id"]
    assert undo["after"] == {"review_state": "pending", "label": None}
    assert all(e["seconds"] is not None and e["seconds"] >= 0.2 for e in trail[:3])
    claims = [e for e in events if e["actor"] == "alice" and e["action"] == "claim"]
    assert {int(e["entity_id"]) for e in claims} >= {first, second, third, fourth}

    live_reviews = httpx.get(f"{base}/api/v1/reviews", headers=admin, timeout=30).json()["reviews"]
    mine = [
        (r["prediction_id"], r["action"], r["label"])
        for r in live_reviews
        if r["reviewer"] == "alice"
    ]
    assert mine == [(first, "accept", 0), (second, "correct", 1)]

    # without JavaScript: bob reviews his item with a plain form POST carrying the CSRF token
    r = bob.post(f"/review/items/{bob_item}", data={"choice": "correct:2", "csrf": bob_csrf})
    assert r.status_code == 303
    nxt = _item_id(r.headers["location"])
    assert nxt not in (first, second, third, bob_item)  # alice holds `third` again

    # a POST without (or with a wrong) CSRF token is refused and changes nothing
    for data in ({"choice": "accept"}, {"choice": "accept", "csrf": "forged"}):
        r = bob.post(f"/review/items/{nxt}", data=data)
        assert r.status_code == 303 and "err=1" in r.headers["location"]
    r = httpx.post(f"{base}/review/items/{nxt}", data={"choice": "accept", "csrf": bob_csrf})
    assert r.status_code == 303 and r.headers["location"] == "/review/login"  # no session
    bob.close()
    with engine.connect() as conn:
        row = conn.execute(sa.select(predictions).where(predictions.c.id == nxt)).one()
        assert row.review_state == "pending"
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(reviews)
                .where(reviews.c.prediction_id == nxt)
            ).scalar()
            == 0
        )
        bob_fb = conn.execute(
            sa.select(feedback.c.label).where(feedback.c.prediction_id == bob_item)
        ).all()
    assert [f.label for f in bob_fb] == [2]  # "correct:2": bird


def test_undo_after_claim_expired_claims_nothing_new(tmp_path: Path) -> None:
    """Undo by a reviewer whose claim ran out must not claim (and audit) a fresh item."""
    from fastapi.testclient import TestClient

    from confide.decision import ThresholdPolicy
    from confide.service import Settings, create_app

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    secrets = create_keys(url, admin="admin", carol="reviewer")
    app = create_app(Settings(db_url=url, claim_seconds=1.0))
    admin = {"Authorization": f"Bearer {secrets['admin']}"}
    with TestClient(app, follow_redirects=False) as c:
        body = {"name": "m", "classes": CLASSES, "policy": ThresholdPolicy(0.6).to_dict()}
        assert c.post("/api/v1/models", json=body, headers=admin).status_code == 201
        items = [{"scores": [0.4 + 0.01 * i, 0.3 - 0.01 * i, 0.3]} for i in range(3)]
        r = c.post("/api/v1/models/m/predictions", json={"items": items}, headers=admin)
        assert [it["decision"] for it in r.json()["items"]] == ["review"] * 3
        assert _form_login(c, secrets["carol"]).status_code == 303
        csrf = CSRF_RE.search(c.get("/review").text).group(1)  # type: ignore[union-attr]
        first = _item_id(c.post("/review/next", data={"csrf": csrf}).headers["location"])
        r = c.post(f"/review/items/{first}", data={"choice": "accept", "csrf": csrf})
        second = _item_id(r.headers["location"])
        time.sleep(1.2)  # carol's claim on `second` runs out
        r = c.post("/review/undo", data={"csrf": csrf})
        assert _item_id(r.headers["location"]) == first
        events = c.get("/api/v1/audit", params={"entity": "prediction"}, headers=admin).json()
    trail = [(e["action"], int(e["entity_id"])) for e in events["events"]]
    assert trail == [
        ("claim", first),
        ("review:accept", first),
        ("claim", second),
        ("review:undo", first),
    ]


def test_undo_of_a_skip_never_reopens_an_item_reviewed_since(tmp_path: Path) -> None:
    """Alice skips an item, Bob accepts it; Alice's undo must not put it back in the queue."""
    from fastapi.testclient import TestClient

    from confide.decision import ThresholdPolicy
    from confide.service import Settings, create_app

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    secrets = create_keys(url, admin="admin", alice="reviewer", bob="reviewer")
    app = create_app(Settings(db_url=url))
    admin = {"Authorization": f"Bearer {secrets['admin']}"}
    with (
        TestClient(app, follow_redirects=False) as ca,
        TestClient(app, follow_redirects=False) as cb,
    ):
        body = {"name": "m", "classes": CLASSES, "policy": ThresholdPolicy(0.6).to_dict()}
        assert ca.post("/api/v1/models", json=body, headers=admin).status_code == 201
        items = [{"scores": [0.4 + 0.01 * i, 0.3 - 0.01 * i, 0.3]} for i in range(2)]
        ca.post("/api/v1/models/m/predictions", json={"items": items}, headers=admin)
        tokens = []
        for c, name in ((ca, "alice"), (cb, "bob")):
            assert _form_login(c, secrets[name]).status_code == 303
            tokens.append(CSRF_RE.search(c.get("/review").text).group(1))  # type: ignore[union-attr]
        ta, tb = tokens
        skipped = _item_id(ca.post("/review/next", data={"csrf": ta}).headers["location"])
        ca.post(f"/review/items/{skipped}", data={"choice": "skip", "csrf": ta})  # holds the other
        assert _item_id(cb.post("/review/next", data={"csrf": tb}).headers["location"]) == skipped
        cb.post(f"/review/items/{skipped}", data={"choice": "accept", "csrf": tb})
        r = ca.post("/review/undo", data={"csrf": ta})
        assert r.status_code == 303 and "err=1" in r.headers["location"]
        done = ca.get("/api/v1/reviews", headers=admin).json()["reviews"]
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(predictions).where(predictions.c.id == skipped)).one()
    engine.dispose()
    assert row.review_state == "done" and row.claimed_by is None
    assert [(r["prediction_id"], r["action"], r["reviewer"]) for r in done] == [
        (skipped, "skip", "alice"),
        (skipped, "accept", "bob"),
    ]
