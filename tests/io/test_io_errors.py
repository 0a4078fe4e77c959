"""Every bad file gives a confide error naming the file, the column and the row."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from confide.exceptions import (
    LabelError,
    MissingDependencyError,
    NonFiniteError,
    ProbabilityError,
    ShapeError,
    ValidationError,
)
from confide.io import read_predictions, write_predictions


def _csv(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the file ---------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ValidationError, match=r"'.*nope\.csv' does not exist") as info:
        read_predictions(tmp_path / "nope.csv")
    assert isinstance(info.value, FileNotFoundError)


def test_unknown_suffix_asks_for_format(tmp_path):
    with pytest.raises(ValidationError, match=r"'\.txt'.*format="):
        read_predictions(_csv(tmp_path, "p\n0.5\n", "x.txt"))
    with pytest.raises(ValidationError, match="format must be one of"):
        read_predictions(tmp_path / "x.csv", format="xlsx")


@pytest.mark.parametrize("name", ["empty.csv", "empty.parquet", "empty.npz"])
def test_zero_byte_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(ValidationError, match=rf"{name}' is empty"):
        read_predictions(tmp_path / name)


def test_header_only_csv_and_zero_row_parquet(tmp_path):
    with pytest.raises(ValidationError, match=r"h\.csv' has no rows"):
        read_predictions(_csv(tmp_path, "label,p_0,p_1\n", "h.csv"))
    pd.DataFrame({"score": np.array([], dtype=float)}).to_parquet(tmp_path / "z.parquet")
    with pytest.raises(ValidationError, match=r"z\.parquet' has no rows"):
        read_predictions(tmp_path / "z.parquet")
    with pytest.raises(ValidationError, match=r"b\.csv' is empty \(no header\)"):
        read_predictions(_csv(tmp_path, "\n\n", "b.csv"))


def test_empty_npz(tmp_path):
    np.savez(tmp_path / "none.npz")
    with pytest.raises(ValidationError, match=r"none\.npz' is empty \(an NPZ with no arrays\)"):
        read_predictions(tmp_path / "none.npz")
    np.savez(tmp_path / "zero.npz", probs=np.zeros((0, 3)))
    with pytest.raises(ValidationError, match=r"zero\.npz' has no rows"):
        read_predictions(tmp_path / "zero.npz")


@pytest.mark.parametrize("name", ["junk.parquet", "junk.npz", "junk.csv.gz"])
def test_corrupt_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"\x00\x01 this is not the format \xff" * 10)
    with pytest.raises(ValidationError, match=rf"{name}' could not be read as"):
        read_predictions(tmp_path / name)


def test_npz_with_object_array(tmp_path):
    np.savez(tmp_path / "o.npz", probs=np.array([[0.5, 0.5]]), labels=np.array([{"a": 1}]))
    with pytest.raises(ValidationError, match=r"'labels' of '.*o\.npz' holds Python objects"):
        read_predictions(tmp_path / "o.npz")


def test_missing_pandas_names_the_extra(tmp_path, monkeypatch):
    path = _csv(tmp_path, "score\n0.5\n")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"'pandas'.*pip install 'confide\[io\]'"):
        read_predictions(path)
    with pytest.raises(MissingDependencyError, match="pandas"):
        write_predictions(tmp_path / "w.csv", None, np.array([0.5]))
    # NPZ needs NumPy only
    np.savez(tmp_path / "ok.npz", probs=np.array([0.5]))
    assert read_predictions(tmp_path / "ok.npz").binary


def test_missing_pyarrow_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(MissingDependencyError, match=r"'pyarrow'.*confide\[io\]"):
        read_predictions(tmp_path / "x.parquet")


# -- columns ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("label_col", "truth"),
        ("prob_cols", ["p_0", "truth"]),
        ("logit_cols", ["truth", "p_1"]),
        ("score_col", "truth"),
    ],
)
def test_missing_column_lists_the_columns(tmp_path, option, value):
    path = _csv(tmp_path, "label,p_0,p_1\n0,0.5,0.5\n")
    with pytest.raises(
        ValidationError,
        match=rf"\['truth'\] \({option}\) not found in '.*bad\.csv'; its columns are "
        r"\['label', 'p_0', 'p_1'\]",
    ):
        read_predictions(path, **{option: value})


def test_missing_npz_key_lists_the_arrays(tmp_path):
    np.savez(tmp_path / "k.npz", test_logits=np.zeros((2, 2)), test_labels=np.array([0, 1]))
    with pytest.raises(ValidationError, match=r"'logits' \(logit_key\) not found.*'test_logits'"):
        read_predictions(tmp_path / "k.npz", logit_key="logits")
    with pytest.raises(ValidationError, match=r"no probability array.*logit_key="):
        read_predictions(tmp_path / "k.npz")


def test_no_prediction_columns(tmp_path):
    with pytest.raises(ValidationError, match=r"no prediction columns; its columns are \['id'"):
        read_predictions(_csv(tmp_path, "id,label,feature\n1,0,2.5\n"))


def test_non_numeric_probability_column(tmp_path):
    path = _csv(tmp_path, "label,p_0,p_1\n0,0.5,0.5\n1,0.3,high\n")
    with pytest.raises(
        ValidationError, match=r"column 'p_1' of '.*bad\.csv' must hold numbers.*'high' in row 1"
    ):
        read_predictions(path)


@pytest.mark.parametrize(
    ("cell", "shown"), [("", "NaN"), ("nan", "NaN"), ("inf", "inf"), ("-inf", "-inf")]
)
def test_non_finite_probability(tmp_path, cell, shown):
    path = _csv(tmp_path, f"label,p_0,p_1\n0,0.5,0.5\n1,0.5,0.5\n1,{cell},0.5\n")
    with pytest.raises(
        NonFiniteError, match=rf"column 'p_0' of '.*bad\.csv' holds {shown}.* in row 2 \(line 4\)"
    ):
        read_predictions(path)


def test_non_finite_logits_and_npz(tmp_path):
    path = _csv(tmp_path, "logit_a,logit_b\n1,2\n3,inf\n")
    with pytest.raises(NonFiniteError, match=r"column 'logit_b'.*inf in row 1"):
        read_predictions(path)
    p = np.full((4, 3), 1 / 3)
    p[3, 2] = np.nan
    np.savez(tmp_path / "n.npz", probs=p)
    with pytest.raises(NonFiniteError, match=r"column 2 of array 'probs' of '.*n\.npz'.*row 3"):
        read_predictions(tmp_path / "n.npz")


@pytest.mark.parametrize(
    ("bad", "what"), [("-0.1,1.1", "negative"), ("1.5,-0.5", "greater than 1")]
)
def test_probability_outside_0_1(tmp_path, bad, what):
    path = _csv(tmp_path, f"p_0,p_1\n0.5,0.5\n{bad}\n")
    with pytest.raises(
        ProbabilityError, match=rf"column 'p_0' of '.*bad\.csv' holds .* in row 1 .*{what}"
    ):
        read_predictions(path)


def test_score_outside_0_1(tmp_path):
    with pytest.raises(ProbabilityError, match=r"column 'score'.*2\.5 in row 0.*logits"):
        read_predictions(_csv(tmp_path, "score\n2.5\n"))


def test_rows_not_summing_to_one(tmp_path):
    path = _csv(tmp_path, "p_0,p_1,p_2\n0.2,0.3,0.5\n0.2,0.3,0.4\n0.5,0.5,0.0\n")
    with pytest.raises(
        ProbabilityError, match=r"bad\.csv.*tolerance 5\.7e-06.*worst is row 1.*sum_tolerance="
    ):
        read_predictions(path)
    got = read_predictions(path, sum_tolerance=0.11)
    assert got.n_samples == 3


def test_default_sum_tolerance_is_float32_for_csv_only(tmp_path):
    # 2e-6 off: within float32 rounding for a CSV (tolerance 3.8e-6 for two classes), not
    # within float64 rounding for Parquet (tolerance 1e-6).
    path = _csv(tmp_path, "p_0,p_1\n0.5,0.500002\n")
    assert read_predictions(path).n_samples == 1
    pd.read_csv(path).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ProbabilityError, match=r"tolerance 1\.0e-06"):
        read_predictions(tmp_path / "t.parquet")


@pytest.mark.parametrize("value", [-1.0, float("nan"), "0.1"])
def test_bad_sum_tolerance(tmp_path, value):
    with pytest.raises((ValidationError, TypeError), match="sum_tolerance must be"):
        read_predictions(_csv(tmp_path, "score\n0.5\n"), sum_tolerance=value)


def test_single_probability_column(tmp_path):
    with pytest.raises(ShapeError, match=r"single probability column \['p_1'\].*score_col="):
        read_predictions(_csv(tmp_path, "p_1,label\n0.7,1\n"))


# -- ambiguity --------------------------------------------------------------------------------


def test_probs_and_logits_are_ambiguous(tmp_path):
    path = _csv(tmp_path, "p_0,p_1,logit_0,logit_1\n0.5,0.5,0,0\n")
    with pytest.raises(ValidationError, match=r"more than one kind.*probs: .*logits: .*input="):
        read_predictions(path)


def test_two_label_columns_are_ambiguous(tmp_path):
    path = _csv(tmp_path, "y,target,p_0,p_1\n0,1,0.5,0.5\n")
    with pytest.raises(ValidationError, match=r"\['y', 'target'\]. Pass label_col="):
        read_predictions(path)


def test_two_probability_prefixes_are_ambiguous(tmp_path):
    path = _csv(tmp_path, "p_a,p_b,prob_a,prob_b\n0.5,0.5,0.5,0.5\n")
    with pytest.raises(ValidationError, match=r"two sets of probability columns.*prob_cols="):
        read_predictions(path)


def test_two_score_columns_are_ambiguous(tmp_path):
    path = _csv(tmp_path, "score,y_prob\n0.5,0.5\n")
    with pytest.raises(ValidationError, match=r"several score columns.*score_col="):
        read_predictions(path)


def test_npz_ambiguities(tmp_path):
    np.savez(tmp_path / "a.npz", probs=np.eye(2), logits=np.eye(2))
    with pytest.raises(ValidationError, match=r"both probabilities 'probs' and logits.*input="):
        read_predictions(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", probs=np.eye(2), predictions=np.eye(2))
    with pytest.raises(ValidationError, match=r"\['probs', 'predictions'\]; pass prob_key="):
        read_predictions(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", probs=np.eye(2), labels=[0, 1], y_true=[0, 1])
    with pytest.raises(ValidationError, match=r"pass label_key="):
        read_predictions(tmp_path / "c.npz")


def test_contradicting_options(tmp_path):
    path = _csv(tmp_path, "p_0,p_1,score\n0.5,0.5,0.5\n")
    with pytest.raises(ValidationError, match="only one of prob_cols, logit_cols and score_col"):
        read_predictions(path, prob_cols=["p_0", "p_1"], score_col="score")
    with pytest.raises(ValidationError, match=r"input='score' contradicts prob_cols="):
        read_predictions(path, prob_cols=["p_0", "p_1"], input="score")
    with pytest.raises(ValidationError, match="input must be one of"):
        read_predictions(path, input="proba")
    with pytest.raises(ValidationError, match=r"label_key= does not apply to the CSV file"):
        read_predictions(path, label_key="labels")
    np.savez(tmp_path / "x.npz", probs=np.eye(2))
    with pytest.raises(ValidationError, match=r"label_col= does not apply to the NPZ file"):
        read_predictions(tmp_path / "x.npz", label_col="label")


def test_classes_not_matching_the_columns(tmp_path):
    path = _csv(tmp_path, "p_a,p_b,p_c\n0.2,0.3,0.5\n")
    with pytest.raises(ValidationError, match=r"classes=\['a', 'b'\] does not match"):
        read_predictions(path, classes=["a", "b"])
    with pytest.raises(ShapeError, match="classes names 2 classes"):
        read_predictions(path, prob_cols=["p_a", "p_b", "p_c"], classes=["a", "b"])
    with pytest.raises(ValidationError, match="distinct"):
        read_predictions(path, prob_cols=["p_a", "p_b", "p_c"], classes=["a", "b", "a"])


# -- labels -----------------------------------------------------------------------------------


def test_labels_outside_the_classes_are_listed(tmp_path):
    rows = "".join(f"{lab},0.5,0.5\n" for lab in ["cat", "cow", "dog", "eel", "fox", "gnu", "hen"])
    path = _csv(tmp_path, "label,p_cat,p_dog\n" + rows)
    with pytest.raises(
        LabelError,
        match=r"label column 'label' of '.*bad\.csv' holds 5 label value\(s\) that are not among "
        r"the classes: \['cow', 'eel', 'fox', 'gnu', 'hen'\], the first in row 1 \(line 3\)\..*"
        r"classes are \['cat', 'dog'\]",
    ):
        read_predictions(path)


def test_integer_labels_outside_integer_classes(tmp_path):
    path = _csv(tmp_path, "label,p_1,p_2\n1,0.5,0.5\n0,0.5,0.5\n")
    with pytest.raises(LabelError, match=r"\[0\], the first in row 1.*\['1', '2'\]"):
        read_predictions(path)


def test_integer_labels_outside_the_indices(tmp_path):
    path = _csv(tmp_path, "label,p_a,p_b\n2,0.5,0.5\n")
    with pytest.raises(LabelError, match=r"\[2\].*class indices 0\.\.1"):
        read_predictions(path)


def test_binary_labels_must_be_two_classes(tmp_path):
    path = _csv(tmp_path, "label,score\n0,0.2\n2,0.7\n")
    with pytest.raises(LabelError, match=r"\[2\].*classes=\[negative, positive\]"):
        read_predictions(path)
    path = _csv(tmp_path, "label,score\nspam,0.2\n", "s.csv")
    with pytest.raises(LabelError, match=r"\['spam'\].*classes=\[negative, positive\]"):
        read_predictions(path)
    with pytest.raises(ShapeError, match="binary score"):
        read_predictions(path, classes=["ham", "spam", "eggs"])


def test_missing_and_fractional_labels(tmp_path):
    path = _csv(tmp_path, "label,p_0,p_1\n0,0.5,0.5\n,0.5,0.5\n")
    with pytest.raises(LabelError, match=r"'label' of '.*bad\.csv' has no label in 1 row.*row 1"):
        read_predictions(path)
    pd.DataFrame({"y": [0.0, 0.5], "score": [0.1, 0.2]}).to_parquet(tmp_path / "f.parquet")
    with pytest.raises(LabelError, match=r"row 1 holds 0\.5, which is not an integer"):
        read_predictions(tmp_path / "f.parquet")
    pd.DataFrame({"y": [0.0, np.nan], "score": [0.1, 0.2]}).to_parquet(tmp_path / "m.parquet")
    with pytest.raises(LabelError, match=r"no label in 1 row\(s\), the first is row 1"):
        read_predictions(tmp_path / "m.parquet")


def test_npz_label_shape(tmp_path):
    np.savez(tmp_path / "s.npz", probs=np.eye(3), labels=np.array([0, 1]))
    with pytest.raises(ShapeError, match=r"'labels' of '.*s\.npz' have shape \(2,\).*3 samples"):
        read_predictions(tmp_path / "s.npz")
    np.savez(tmp_path / "t.npz", logits=np.zeros(3))
    with pytest.raises(ShapeError, match=r"must be 2-D.*sigmoid"):
        read_predictions(tmp_path / "t.npz")


# -- writing ----------------------------------------------------------------------------------


def test_write_errors(tmp_path):
    p = np.array([[0.5, 0.5], [0.1, 0.9]])
    with pytest.raises(ValidationError, match="exactly one of probs and logits"):
        write_predictions(tmp_path / "w.csv", [0, 1], p, logits=p)
    with pytest.raises(ValidationError, match="exactly one of probs and logits"):
        write_predictions(tmp_path / "w.csv", [0, 1])
    with pytest.raises(ProbabilityError, match="sum to 1"):
        write_predictions(tmp_path / "w.csv", [0, 1], np.array([[0.5, 0.6], [0.1, 0.9]]))
    with pytest.raises(LabelError, match=r"\[2\]"):
        write_predictions(tmp_path / "w.csv", [0, 2], p)
    with pytest.raises(LabelError, match="0 or 1"):
        write_predictions(tmp_path / "w.csv", [0, 2], np.array([0.5, 0.5]))
    with pytest.raises(LabelError, match=r"\['emu'\]"):
        write_predictions(tmp_path / "w.csv", ["cat", "emu"], p, classes=["cat", "dog"])
    with pytest.raises(ShapeError, match="same number of samples"):
        write_predictions(tmp_path / "w.csv", [0, 1, 1], p)
    with pytest.raises(ShapeError, match="classes names 3 classes"):
        write_predictions(tmp_path / "w.csv", [0, 1], p, classes=["a", "b", "c"])
    with pytest.raises(ValidationError, match="format="):
        write_predictions(tmp_path / "w.xlsx", [0, 1], p)
    assert not (tmp_path / "w.csv").exists()


def test_npz_probabilities_outside_0_1_suggest_logit_key(tmp_path):
    np.savez(tmp_path / "l.npz", probs=np.array([[2.0, -1.0]]))
    with pytest.raises(ProbabilityError, match=r"array 'probs' of '.*l\.npz'.*logit_key="):
        read_predictions(tmp_path / "l.npz")
