"""Classification metrics against tables worked out by hand (no sklearn)."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.errors import ShapeError
from layergraph.train.metrics import (classification_report, confusion_matrix, precision_recall_f1,
                                      top_k_accuracy)

# 10 samples, 3 classes. Hand count (true -> predicted):
#   class 0: 0->0, 0->0, 0->1, 0->2          support 4, TP 2
#   class 1: 1->1, 1->1, 1->0                support 3, TP 2
#   class 2: 2->2, 2->1, 2->2                support 3, TP 2
Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 2, 1, 1, 0, 2, 1, 2]
CM = [[2, 1, 1],
      [1, 2, 0],
      [0, 1, 2]]


def test_confusion_matrix_has_true_classes_as_rows():
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, CM)
    # asymmetric case: one sample of class 0 predicted as 1 sits in row 0, column 1
    np.testing.assert_array_equal(confusion_matrix([0], [1]), [[0, 1], [0, 0]])


def test_confusion_matrix_num_classes_pads_and_checks_range():
    cm = confusion_matrix([0, 1], [1, 1], num_classes=4)
    assert cm.shape == (4, 4) and cm[0, 1] == 1 and cm[1, 1] == 1 and cm.sum() == 2
    with pytest.raises(ValueError, match="'y_pred' holds the label 3, out of range for num_classes=3"):
        confusion_matrix([0, 1], [3, 1], num_classes=3)
    with pytest.raises(ShapeError, match="'y_true' has 2 samples but 'y_pred' has 3"):
        confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="negative label -1"):
        confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="integer class labels"):
        confusion_matrix([0.5, 1.0], [0, 1])


def test_precision_recall_f1_per_class_and_averages_by_hand():
    r = precision_recall_f1(Y_TRUE, Y_PRED)
    # precision = TP / column sum: columns (3, 4, 3)
    precision = [2 / 3, 2 / 4, 2 / 3]
    recall = [2 / 4, 2 / 3, 2 / 3]
    f1 = [2 * p * q / (p + q) for p, q in zip(precision, recall)]
    np.testing.assert_allclose(r["precision"], precision)
    np.testing.assert_allclose(r["recall"], recall)
    np.testing.assert_allclose(r["f1"], f1)
    np.testing.assert_array_equal(r["support"], [4, 3, 3])
    assert r["macro"]["precision"] == pytest.approx(sum(precision) / 3)
    assert r["macro"]["recall"] == pytest.approx(sum(recall) / 3)
    assert r["macro"]["f1"] == pytest.approx(sum(f1) / 3)
    w = np.array([4, 3, 3]) / 10
    assert r["weighted"]["precision"] == pytest.approx(float(np.dot(precision, w)))
    assert r["weighted"]["recall"] == pytest.approx(0.6)  # weighted recall is the accuracy
    assert r["weighted"]["f1"] == pytest.approx(float(np.dot(f1, w)))


def test_precision_recall_f1_zero_divisions_are_zero_and_absent_classes_leave_macro():
    # class 1 never predicted (precision 0/0 -> 0), class 3 absent everywhere (num_classes=4)
    r = precision_recall_f1([0, 1, 2], [0, 0, 2], num_classes=4)
    np.testing.assert_allclose(r["precision"], [0.5, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(r["recall"], [1.0, 0.0, 1.0, 0.0])
    assert r["macro"]["recall"] == pytest.approx(2 / 3)  # mean over classes 0..2 only


def test_top_k_accuracy_by_hand_and_as_trainer_metric():
    scores = np.array([[0.1, 0.5, 0.4],    # true 2: rank 2
                       [0.7, 0.2, 0.1],    # true 0: rank 1
                       [0.3, 0.3, 0.4],    # true 1: tie with class 0 for 2nd place
                       [0.6, 0.3, 0.1]])   # true 2: rank 3
    y = [2, 0, 1, 2]
    assert top_k_accuracy(y, scores, 1) == 0.25
    assert top_k_accuracy(y, scores, k=2) == 0.75
    assert top_k_accuracy(y, scores, k=3) == 1.0
    with pytest.raises(ValueError, match="label 5 in 'y_true' is out of range for 3 score columns"):
        top_k_accuracy([5, 0, 0, 0], scores, 1)
    with pytest.raises(ValueError, match="'k'"):
        top_k_accuracy(y, scores, 0)
    metric = lg.train.top_k_accuracy(2)  # the existing factory form still works
    assert metric.__name__ == "top2_accuracy"
    assert metric(np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]]), np.array([2, 2])) == 0.5


def test_classification_report_table():
    text = classification_report(Y_TRUE, Y_PRED, class_names=["cat", "dog", "eel"])
    lines = text.splitlines()
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[1].split() == ["cat", "0.667", "0.500", "0.571", "4"]
    assert lines[2].split() == ["dog", "0.500", "0.667", "0.571", "3"]
    assert lines[3].split() == ["eel", "0.667", "0.667", "0.667", "3"]
    assert lines[5].split() == ["accuracy", "0.600", "10"]
    macro_f1 = (4 / 7 + 4 / 7 + 2 / 3) / 3
    assert lines[6].split() == ["macro", "avg", "0.611", "0.611", f"{macro_f1:.3f}", "10"]
    with pytest.raises(ValueError, match="2 'class_names' for 3 classes"):
        classification_report(Y_TRUE, Y_PRED, class_names=["a", "b"], num_classes=3)
