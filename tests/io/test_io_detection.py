"""Which columns / arrays read_predictions picks, the explicit options, and label mapping."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from confide.exceptions import LabelError
from confide.io import Predictions, read_predictions


def _csv(tmp_path, text, name="p.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "label", ["label", "y_true", "y", "target", "true_label", "class", "Label"]
)
def test_each_label_column_name_is_detected(tmp_path, label):
    path = _csv(tmp_path, f"id,{label},p_0,p_1\n7,1,0.2,0.8\n8,0,0.6,0.4\n")
    got = read_predictions(path)
    np.testing.assert_array_equal(got.y_true, [1, 0])
    np.testing.assert_array_equal(got.probs, [[0.2, 0.8], [0.6, 0.4]])


@pytest.mark.parametrize("prefix", ["p_", "prob_", "P_", "Prob_"])
def test_probability_prefixes(tmp_path, prefix):
    path = _csv(tmp_path, f"{prefix}cat,{prefix}dog,label\n0.3,0.7,dog\n0.9,0.1,cat\n")
    got = read_predictions(path)
    assert got.classes == ("cat", "dog")
    assert got.input == "probs"
    np.testing.assert_array_equal(got.y_true, [1, 0])


def test_logit_columns(tmp_path):
    path = _csv(tmp_path, "logit_a,logit_b,logit_c,y\n0,0,0,c\n10,0,-10,a\n")
    got = read_predictions(path)
    assert got.input == "logits" and got.classes == ("a", "b", "c")
    np.testing.assert_allclose(got.probs[0], [1 / 3] * 3, rtol=1e-15)
    assert got.probs[1].argmax() == 0
    np.testing.assert_array_equal(got.logits, [[0, 0, 0], [10, 0, -10]])
    np.testing.assert_array_equal(got.y_true, [2, 0])


@pytest.mark.parametrize("score", ["score", "y_prob", "prob", "p", "probability", "Score"])
def test_each_score_column_name_is_detected(tmp_path, score):
    path = _csv(tmp_path, f"{score},y_true\n0.25,0\n0.75,1\n1,1\n")
    got = read_predictions(path)
    assert got.input == "score" and got.binary and got.classes == ("0", "1")
    np.testing.assert_array_equal(got.probs, [0.25, 0.75, 1.0])
    np.testing.assert_array_equal(got.y_true, [0, 1, 1])


def test_other_columns_are_ignored(tmp_path):
    path = _csv(tmp_path, "id,feature,p_0,p_1,pred,label\n1,3.5,0.5,0.5,0,1\n")
    got = read_predictions(path)
    assert got.classes == ("0", "1")
    assert got.probs.shape == (1, 2)


def test_parquet_keeps_float32_and_reads_only_needed_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "text": ["a", "b"],
            "p_x": np.array([0.25, 0.5], dtype=np.float32),
            "p_y": np.array([0.75, 0.5], dtype=np.float32),
            "target": ["y", "x"],
        }
    )
    frame.to_parquet(tmp_path / "f.parquet", index=True)  # an index column too
    got = read_predictions(tmp_path / "f.parquet")
    assert got.probs.dtype == np.float32
    np.testing.assert_array_equal(got.y_true, [1, 0])


# -- explicit options ---------------------------------------------------------------------------


def test_explicit_label_col_resolves_two_candidates(tmp_path):
    path = _csv(tmp_path, "y,target,p_0,p_1\n0,1,0.5,0.5\n")
    assert read_predictions(path, label_col="target").y_true.tolist() == [1]
    assert read_predictions(path, label_col="y").y_true.tolist() == [0]


def test_explicit_prob_cols_name_the_classes(tmp_path):
    path = _csv(tmp_path, "truth,cat_score,dog_score\ncat,0.9,0.1\n")
    with pytest.raises(LabelError, match=r"\['cat'\].*\['cat_score', 'dog_score'\]"):
        read_predictions(path, label_col="truth", prob_cols=["cat_score", "dog_score"])
    got = read_predictions(path, prob_cols=["cat_score", "dog_score"])  # no label column found
    assert got.classes == ("cat_score", "dog_score") and got.y_true is None
    got = read_predictions(
        path, label_col="truth", prob_cols=["dog_score", "cat_score"], classes=["dog", "cat"]
    )
    assert got.classes == ("dog", "cat")
    np.testing.assert_array_equal(got.probs, [[0.1, 0.9]])
    np.testing.assert_array_equal(got.y_true, [1])


def test_explicit_prob_cols_with_prefix_strip_it(tmp_path):
    path = _csv(tmp_path, "p_a,p_b,p_c\n0.2,0.3,0.5\n")
    got = read_predictions(path, prob_cols=["p_c", "p_a", "p_b"])
    assert got.classes == ("c", "a", "b")
    np.testing.assert_array_equal(got.probs, [[0.5, 0.2, 0.3]])


def test_classes_reorder_detected_columns(tmp_path):
    path = _csv(tmp_path, "p_b,p_a,label\n0.3,0.7,a\n")
    got = read_predictions(path, classes=["a", "b"])
    assert got.classes == ("a", "b")
    np.testing.assert_array_equal(got.probs, [[0.7, 0.3]])
    np.testing.assert_array_equal(got.y_true, [0])


@pytest.mark.parametrize(
    ("options", "kind", "y"),
    [
        ({"input": "probs"}, "probs", 1),
        ({"input": "logits"}, "logits", 1),
        ({"input": "score"}, "score", 1),
        ({"prob_cols": ["p_0", "p_1"]}, "probs", 1),
        ({"logit_cols": ["logit_0", "logit_1"]}, "logits", 1),
        ({"score_col": "score"}, "score", 1),
        # class "1" is now the first column: label 1 is index 0
        ({"input": "logits", "logit_cols": ["logit_1", "logit_0"]}, "logits", 0),
    ],
)
def test_input_and_explicit_columns_resolve_ambiguity(tmp_path, options, kind, y):
    path = _csv(tmp_path, "p_0,p_1,logit_0,logit_1,score,label\n0.4,0.6,0,1,0.6,1\n")
    got = read_predictions(path, **options)
    assert got.input == kind
    assert got.binary == (kind == "score")
    np.testing.assert_array_equal(got.y_true, [y])


def test_explicit_score_col_and_binary_classes(tmp_path):
    path = _csv(tmp_path, "outcome,risk\n-1,0.1\n1,0.8\n")
    got = read_predictions(path, label_col="outcome", score_col="risk", classes=[-1, 1])
    assert got.classes == ("-1", "1")
    np.testing.assert_array_equal(got.y_true, [0, 1])


# -- labels ---------------------------------------------------------------------------------


def test_integer_labels_match_integer_class_names(tmp_path):
    path = _csv(tmp_path, "label,p_1,p_2,p_3\n3,0.2,0.3,0.5\n1,0.6,0.3,0.1\n2,0.2,0.6,0.2\n")
    np.testing.assert_array_equal(read_predictions(path).y_true, [2, 0, 1])


def test_integer_labels_are_indices_for_named_classes(tmp_path):
    path = _csv(tmp_path, "label,p_cat,p_dog\n1,0.2,0.8\n0,0.6,0.4\n")
    np.testing.assert_array_equal(read_predictions(path).y_true, [1, 0])


def test_float_and_bool_labels(tmp_path):
    path = _csv(tmp_path, "label,score\n1.0,0.9\n0.0,0.2\n")
    np.testing.assert_array_equal(read_predictions(path).y_true, [1, 0])
    pd.DataFrame({"y": [True, False], "score": [0.9, 0.2]}).to_parquet(tmp_path / "b.parquet")
    np.testing.assert_array_equal(read_predictions(tmp_path / "b.parquet").y_true, [1, 0])


def test_string_labels_for_binary_score_with_classes(tmp_path):
    path = _csv(tmp_path, "label,score\nspam,0.9\nham,0.2\n")
    got = read_predictions(path, classes=["ham", "spam"])
    np.testing.assert_array_equal(got.y_true, [1, 0])


def test_padded_integer_text_labels(tmp_path):
    frame = pd.DataFrame({"label": ["01", "2"], "p_1": [0.5, 0.5], "p_2": [0.5, 0.5]})
    frame.to_parquet(tmp_path / "t.parquet")
    np.testing.assert_array_equal(read_predictions(tmp_path / "t.parquet").y_true, [0, 1])


def test_string_labels_are_not_integer_indices_when_unknown(tmp_path):
    path = _csv(tmp_path, "label,p_cat,p_dog\ncow,0.5,0.5\n")
    with pytest.raises(LabelError, match=r"\['cow'\]"):
        read_predictions(path)


# -- NPZ ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prob_key", ["probs", "predictions", "y_prob"])
@pytest.mark.parametrize("label_key", ["labels", "ground_truth", "y_true"])
def test_npz_keys_are_detected(tmp_path, prob_key, label_key):
    p = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)
    np.savez(tmp_path / "a.npz", **{prob_key: p, label_key: np.array([1, 0])})
    got = read_predictions(tmp_path / "a.npz")
    assert got.probs.dtype == np.float32 and got.classes == ("0", "1")
    np.testing.assert_array_equal(got.probs, p)
    np.testing.assert_array_equal(got.y_true, [1, 0])


def test_npz_logits_and_explicit_keys(tmp_path):
    z = np.array([[2.0, 0.0, -1.0]], dtype=np.float32)
    np.savez(tmp_path / "z.npz", logits=z, val_logits=z[:, ::-1], val_labels=np.array([0]))
    got = read_predictions(tmp_path / "z.npz")
    assert got.input == "logits" and got.y_true is None
    got = read_predictions(tmp_path / "z.npz", logit_key="val_logits", label_key="val_labels")
    np.testing.assert_array_equal(got.logits, z[:, ::-1])
    np.testing.assert_array_equal(got.y_true, [0])


def test_npz_binary_score_and_classes(tmp_path):
    np.savez(tmp_path / "b.npz", y_prob=np.array([0.1, 0.8]), y_true=np.array([0, 1]))
    got = read_predictions(tmp_path / "b.npz")
    assert got.input == "score" and got.binary
    got = read_predictions(tmp_path / "b.npz", classes=["no", "yes"])
    assert got.classes == ("no", "yes")
    np.savez(tmp_path / "c.npz", probs=np.eye(3), labels=np.array(["b", "c", "a"]))
    got = read_predictions(tmp_path / "c.npz", classes=["a", "b", "c"])
    np.testing.assert_array_equal(got.y_true, [1, 2, 0])


def test_npz_input_option_chooses_between_probs_and_logits(tmp_path):
    np.savez(tmp_path / "both.npz", probs=np.array([[0.5, 0.5]]), logits=np.array([[3.0, 1.0]]))
    assert read_predictions(tmp_path / "both.npz", input="probs").input == "probs"
    assert read_predictions(tmp_path / "both.npz", input="logits").input == "logits"
    assert read_predictions(tmp_path / "both.npz", prob_key="probs").input == "probs"


# -- Predictions ----------------------------------------------------------------------------


def test_predictions_is_frozen_with_readonly_arrays(tmp_path):
    path = _csv(tmp_path, "label,p_0,p_1\n1,0.5,0.5\n")
    got = read_predictions(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.probs = np.zeros((1, 2))  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        got.probs[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        got.y_true[0] = 0


def test_to_dict_is_a_json_summary(tmp_path):
    path = _csv(tmp_path, "p_a,p_b\n0.5,0.5\n0.25,0.75\n")
    summary = read_predictions(path).to_dict()
    assert json.loads(json.dumps(summary)) == summary
    assert summary == {
        "source": str(path),
        "input": "probs",
        "n_samples": 2,
        "n_classes": 2,
        "classes": ["a", "b"],
        "binary": False,
        "has_labels": False,
        "probs_shape": [2, 2],
        "probs_dtype": "float64",
        "logits_shape": None,
    }


def test_require_labels(tmp_path):
    with_labels = read_predictions(_csv(tmp_path, "y,score\n1,0.5\n", "a.csv"))
    np.testing.assert_array_equal(with_labels.require_labels(), [1])
    without = read_predictions(_csv(tmp_path, "score\n0.5\n", "b.csv"))
    with pytest.raises(LabelError, match=r"b\.csv.*without true labels.*label_col="):
        without.require_labels()


def test_predictions_can_be_built_directly():
    pred = Predictions(
        y_true=None, probs=np.array([0.2, 0.9]), logits=None, classes=("n", "p"), input="score"
    )
    assert pred.binary and pred.n_samples == 2 and pred.source == "<memory>"
    with pytest.raises(ValueError, match="3 class names"):
        Predictions(
            y_true=None, probs=np.eye(2), logits=None, classes=("a", "b", "c"), input="probs"
        )


def test_true_false_text_labels(tmp_path):
    path = _csv(tmp_path, "label,score\nTrue,0.9\nFalse,0.2\n")
    np.testing.assert_array_equal(read_predictions(path).y_true, [1, 0])


def test_repr_is_short(tmp_path):
    np.savez(tmp_path / "wide.npz", probs=np.full((2, 100), 0.01))
    text = repr(read_predictions(tmp_path / "wide.npz"))
    assert "n_samples=2" in text and "(90 more)" in text and len(text) < 300
