"""The review queue's store functions on SQLite and PostgreSQL: claims never overlap, expire,
reviews become feedback, undo retracts exactly one review."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from confide.store import (
    ConflictError,
    NotFoundError,
    create_engine,
    keys,
    now,
    registry,
    review,
    upgrade,
)
from confide.store import feedback as feedback_store
from confide.store import predictions as prediction_store


@pytest.fixture
def store(db_url: str) -> Any:
    engine = create_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        model = registry.register_model(
            conn, name="m", classes=["a", "b", "c"], calibrator=None, policy=None, actor="test"
        )
        reviewers = [keys.create_key(conn, name=f"r{i}", role="reviewer")[0] for i in range(4)]
        rows = [
            {
                "model_id": model.id,
                "client_id": f"c{i}",
                "batch_id": "b",
                "created_at": now(),
                "input_kind": "probabilities",
                "scores": [0.5, 0.3, 0.2],
                "probs": [0.5, 0.3, 0.2],
                "label": 0,
                "raw_confidence": 0.5,
                "confidence": 0.5,
                "decision": "review",
                "reason": "low",
                "payload": None,
                "review_state": "pending",
                "priority": 0.3 + i / 100,
            }
            for i in range(12)
        ]
        ids = prediction_store.insert_predictions(conn, rows)
    yield engine, reviewers, ids
    engine.dispose()


def test_claims_go_lowest_priority_first_and_never_overlap(store: Any) -> None:
    engine, reviewers, ids = store
    got: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def work(r: Any) -> None:
        barrier.wait()
        for _ in range(3):
            with engine.begin() as conn:
                item = review.claim_next(conn, r, ttl_seconds=60)
                assert item is not None
                review.submit_review(conn, r, item, action="accept")
            with lock:
                got.append(item)

    threads = [threading.Thread(target=work, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(ids)  # 12 items, 4 reviewers x 3, no item twice
    with engine.connect() as conn:
        assert review.queue_stats(conn) == {"pending": 0, "claimed": 0, "done": 12}
        assert len(feedback_store.list_feedback(conn)) == 12


def test_a_live_claim_is_kept_and_an_expired_one_moves_on(store: Any) -> None:
    engine, (r1, r2, *_), ids = store
    with engine.begin() as conn:
        first = review.claim_next(conn, r1, ttl_seconds=0.3)
        assert first == ids[0]
        assert review.claim_next(conn, r1, ttl_seconds=0.3) == first  # the same reviewer keeps it
        assert review.claim_next(conn, r2, ttl_seconds=60) == ids[1]  # another gets the next one
        with pytest.raises(ConflictError, match="claimed by another reviewer"):
            review.submit_review(conn, r2, first, action="accept")
    time.sleep(0.4)
    with engine.begin() as conn:
        taken = review.claim_next(conn, reviewers_third := store[1][2], ttl_seconds=60)
        assert taken == first  # expired claims return to the queue
        review.submit_review(conn, reviewers_third, first, action="correct", label=2)
        with pytest.raises(ConflictError, match="not waiting for review"):
            review.submit_review(conn, r1, first, action="accept")


def test_review_actions_feedback_and_undo(store: Any) -> None:
    engine, (r1, r2, *_), ids = store
    with engine.begin() as conn:
        a = review.claim_next(conn, r1, ttl_seconds=60)
        review.submit_review(conn, r1, a, action="accept")
        b = review.claim_next(conn, r1, ttl_seconds=60)
        review.submit_review(conn, r1, b, action="correct", label=1)
        c = review.claim_next(conn, r1, ttl_seconds=60)
        review.submit_review(conn, r1, c, action="reject")
        d = review.claim_next(conn, r1, ttl_seconds=60)
        review.submit_review(conn, r1, d, action="skip")
        assert review.claim_next(conn, r1, ttl_seconds=60) not in (
            a,
            b,
            c,
            d,
        )  # skipped: not again for r1
        with pytest.raises(ValueError, match=r"class index in 0\.\.2"):
            review.submit_review(conn, r1, ids[5], action="correct", label=7)
    with engine.begin() as conn:
        assert review.claim_next(conn, r2, ttl_seconds=60) == d  # others still see the skipped item
        live = {
            f["prediction_id"]: f["label"]
            for f in feedback_store.list_feedback(conn)
            if f["retracted_at"] is None
        }
        assert live == {a: 0, b: 1}
        review.release(conn, r2, d)
    with engine.begin() as conn:
        undone = [review.undo_last(conn, r1, ttl_seconds=60)["prediction_id"] for _ in range(2)]
        assert undone == [d, c]  # newest first: the skip, then the reject
        undone.append(review.undo_last(conn, r1, ttl_seconds=60)["prediction_id"])
        assert undone[-1] == b
        live = {
            f["prediction_id"]: f["label"]
            for f in feedback_store.list_feedback(conn)
            if f["retracted_at"] is None
        }
        assert live == {a: 0}  # the correction's label is retracted, the accept's kept
        state = conn.execute(
            sa.text(f"SELECT review_state, claimed_by FROM predictions WHERE id = {b}")
        ).one()
        assert state == ("pending", r1.id)
        export = review.export_reviews(conn)
        assert [(e["prediction_id"], e["action"]) for e in export] == [(a, "accept")]
    with engine.begin() as conn:
        review.undo_last(conn, r1, ttl_seconds=60)
        with pytest.raises(NotFoundError, match="nothing to undo"):
            review.undo_last(conn, r1, ttl_seconds=60)


def test_readers_run_beside_a_writer(store: Any) -> None:
    # SQLite: writes take the lock at BEGIN (no deadlocking lock upgrades), reads are deferred
    # and see the last commit while a write is open (WAL); PostgreSQL: MVCC does the same.
    from confide.store import reading

    engine, _, ids = store
    with engine.begin() as writer:
        writer.execute(sa.text(f"UPDATE predictions SET reason = 'x' WHERE id = {ids[0]}"))
        start = time.perf_counter()
        with reading(engine) as conn:
            reason = conn.execute(
                sa.text(f"SELECT reason FROM predictions WHERE id = {ids[0]}")
            ).scalar()
        assert reason == "low" and time.perf_counter() - start < 5
