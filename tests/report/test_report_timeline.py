"""The monitoring timeline: charts, table, alert marks, a self-contained page."""

from __future__ import annotations

import re

from confide.report._timeline import timeline_section, write_monitor_report


def _rows():
    rows = []
    for i in range(6):
        late = i >= 4
        rows.append(
            {
                "index": i,
                "key": f"2024-0{i + 1}",
                "n": 100,
                "mean_confidence": 0.8 - 0.1 * late,
                "ks_statistic": 0.3 if late else 0.05,
                "ks_p_value": 1e-6 if late else 0.5,
                "ks_p_adjusted": 1e-5 if late else 0.9,
                "psi": 0.4 if late else 0.02,
                "psi_threshold": 0.1,
                "psi_p_adjusted": 1e-4 if late else 0.8,
                "drift": late,
                "estimated_accuracy": 0.7,
                "estimated_lower": 0.6,
                "estimated_upper": 0.8,
                "atc_accuracy": 0.72,
                "realised_accuracy": None if i == 2 else 0.7,
                "cusum_statistic": 1.0,
                "cusum_alarm": False,
                "alerts": ["drift"] if late else [],
            }
        )
    return rows


_ALERTS = [{"rule": "drift", "state": "fired", "at": 4, "chunk": "2024-05", "message": "a <b>"}]


def test_section_has_four_charts_a_table_and_the_events():
    html = timeline_section(
        _rows(), _ALERTS, reference={"mean_confidence": 0.8, "accuracy": 0.7}, alpha=0.01
    )
    assert html.count("<svg") == 4 and "xmlns" not in html
    assert html.count("<tr>") == 7  # header + one per chunk
    assert "a &lt;b&gt;" in html and "a <b>" not in html  # escaped
    # the alert span: one shaded bar per chunk with an active alert, on each chart
    assert len(re.findall(r'class="alert-span"', html)) == 2 * 4
    assert "2024-05" in html and "⚑" in html
    # the missing realised accuracy is a gap, not a zero: the path is split in two runs
    realised = re.search(r'<path class="line" d="([^"]+)" fill="none" stroke="#222222"', html)
    assert realised is not None and realised.group(1).count("M") == 2


def test_no_alert_and_no_rows():
    rows = [dict(r, alerts=[], drift=False) for r in _rows()]
    html = timeline_section(rows, [])
    assert "No alert fired." in html and "alert-span" not in html
    assert "No chunk" in timeline_section([], [])


def test_page_is_self_contained(tmp_path):
    path = write_monitor_report(tmp_path / "t.html", _rows(), _ALERTS, "my <title>")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>my &lt;title&gt;</title>" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
