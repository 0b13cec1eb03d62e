"""Dispute scoring on hand-made labels and predictions: each kind with the right box index, clean images score 0,
calibration, ranking, JSON round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from labeltrain.core.disputes import (
    MISSING,
    POOR_LOCALISATION,
    SPURIOUS,
    WRONG_CLASS,
    Calibration,
    ImageDisputes,
    MiningResult,
    Thresholds,
    calibrate,
    image_score,
    rank_images,
    score_image,
)

NAMES = ("circle", "square", "triangle")
CAL = Calibration(recall=0.9, typical=0.8, conf=0.3)


def lab(*rows: tuple) -> np.ndarray:
    return np.array(rows, dtype=float).reshape(-1, 5)


def pred(*rows: tuple) -> np.ndarray:
    """Rows (class, x1, y1, x2, y2, score) -> detector layout (x1, y1, x2, y2, score, class)."""
    a = np.array(rows, dtype=float).reshape(-1, 6)
    return a[:, [1, 2, 3, 4, 5, 0]]


A, B, C = (10, 10, 50, 50), (100, 100, 140, 140), (200, 20, 240, 60)


def test_clean_image_has_no_disputes():
    labels = lab((0, *A), (1, *B))
    preds = pred((0, 11, 10, 50, 51, 0.9), (1, 100, 101, 139, 140, 0.8), (2, 300, 300, 310, 310, 0.02))
    disputes = score_image(labels, preds, NAMES, calibration=CAL)
    assert disputes == ()
    assert image_score(disputes) == 0.0


def test_wrong_class_names_the_box_and_both_classes():
    labels = lab((0, *A), (1, *B))
    preds = pred((0, *A, 0.9), (0, *B, 0.85), (1, *B, 0.1))
    (d,) = score_image(labels, preds, NAMES, calibration=CAL)
    assert d.kind == WRONG_CLASS and d.box_index == 1
    assert d.score == pytest.approx(0.85 - 0.1)
    assert d.label.name == "square" and d.prediction.name == "circle" and d.prediction.conf == pytest.approx(0.85)
    assert d.message == "model sees a 'circle' (0.85) here, labelled 'square'; 'square' 0.10"


def test_no_wrong_class_when_the_model_prefers_the_label():
    labels = lab((0, *A))
    preds = pred((0, *A, 0.9), (1, *A, 0.5))
    assert score_image(labels, preds, NAMES, calibration=CAL) == ()


def test_other_class_prediction_explained_by_its_own_label_is_no_dispute():
    # two labels of different classes on nearly the same place: each prediction belongs to its own label
    labels = lab((0, *A), (1, 12, 12, 52, 52))
    preds = pred((0, *A, 0.9), (1, 12, 12, 52, 52, 0.9))
    assert score_image(labels, preds, NAMES, calibration=CAL) == ()


def test_poor_localisation_scales_with_overlap():
    labels = lab((0, *A), (2, 215, 35, 255, 75))  # box 1 is C shifted by (15, 15): IoU 625/2575 = 0.243
    preds = pred((0, *A, 0.9), (2, *C, 0.8))
    (d,) = score_image(labels, preds, NAMES, calibration=CAL)
    assert d.kind == POOR_LOCALISATION and d.box_index == 1
    assert d.iou == pytest.approx(625 / 2575)
    assert d.score == pytest.approx(0.8 * (0.6 - 625 / 2575) / 0.5)
    assert d.prediction.xyxy == C and d.label.xyxy == (215, 35, 255, 75)


def test_well_placed_prediction_means_no_localisation_dispute():
    labels = lab((0, *A))
    preds = pred((0, 10, 10, 50, 46, 0.9), (0, 25, 25, 65, 65, 0.9))  # one at IoU 0.9, a stray one at 0.27
    assert score_image(labels, preds, NAMES, calibration=CAL) == ()


def test_spurious_box_with_nothing_near_even_at_conf_low():
    labels = lab((0, *A), (1, *B), (2, *C))
    preds = pred((0, *A, 0.9), (1, *B, 0.9), (2, *C, 0.005))  # below conf_low 0.01: ignored
    (d,) = score_image(labels, preds, NAMES, calibration=CAL)
    assert d.kind == SPURIOUS and d.box_index == 2 and d.prediction is None
    assert d.score == pytest.approx(CAL.recall * CAL.typical)
    assert "sees nothing" in d.message and "'triangle'" in d.message


def test_a_weak_prediction_near_the_box_means_not_spurious():
    labels = lab((0, *A))
    preds = pred((1, *A, 0.02))
    assert score_image(labels, preds, NAMES, calibration=CAL) == ()


def test_missing_box_merges_predictions_of_one_object():
    labels = lab((0, *A))
    preds = pred((0, *A, 0.9), (1, *B, 0.7), (2, 101, 101, 141, 141, 0.4), (1, *C, 0.2))  # C below conf 0.3
    (d,) = score_image(labels, preds, NAMES, calibration=CAL)
    assert d.kind == MISSING and d.box_index is None and d.label is None
    assert d.score == pytest.approx(0.7) and d.prediction.name == "square"
    assert d.message == "model sees a 'square' (0.70) here with no label"


def test_unlabelled_image_with_objects():
    disputes = score_image(lab(), pred((0, *A, 0.9), (2, *C, 0.6)), NAMES, calibration=CAL)
    assert [(d.kind, round(d.score, 2)) for d in disputes] == [(MISSING, 0.9), (MISSING, 0.6)]
    assert image_score(disputes) == pytest.approx(1 - 0.1 * 0.4)


def test_disputes_sorted_by_score_and_class_names_outside_the_list():
    labels = lab((7, *A), (1, *B))
    preds = pred((0, *A, 0.6), (0, 300, 300, 340, 340, 0.95))
    disputes = score_image(labels, preds, NAMES, calibration=CAL)
    assert [d.kind for d in disputes] == [MISSING, SPURIOUS, WRONG_CLASS]
    assert [d.box_index for d in disputes] == [None, 1, 0]
    assert "labelled 'class 7'" in disputes[2].message


def test_calibration_recall_typical_and_automatic_conf():
    pairs = [(lab((0, *A), (1, *B)), pred((0, *A, 0.6), (1, *B, 0.2))),
             (lab((2, *C)), pred((2, *C, 0.4))),
             (lab((0, *A)), pred())]  # a box the model does not see
    cal = calibrate(pairs)
    assert cal.recall == pytest.approx(3 / 4)
    assert cal.typical == pytest.approx(0.4)
    assert cal.conf == pytest.approx(0.2)
    assert calibrate(pairs, Thresholds(conf=0.5)).conf == 0.5
    assert calibrate([]) == Calibration(1.0, 1.0, 0.5)


def test_a_model_that_sees_nothing_raises_no_spurious_disputes():
    cal = calibrate([(lab((0, *A)), pred())])
    assert cal.recall == 0 and cal.typical == 0
    assert score_image(lab((0, *A)), pred(), NAMES, calibration=cal) == ()


def test_thresholds_problems():
    assert Thresholds().problems() == []
    assert Thresholds(conf=0.001).problems()
    assert Thresholds(loc_low=0.7).problems()


def _image(name: str, *scores: float) -> ImageDisputes:
    preds = pred(*[(0, 10 + 100 * i, 10, 50 + 100 * i, 50, s) for i, s in enumerate(scores)])
    disputes = score_image(lab(), preds, NAMES, calibration=Calibration(conf=0.05))
    return ImageDisputes(f"/d/{name}.jpg", f"/d/{name}.txt", image_score(disputes), disputes, 0, len(scores), 1)


def test_ranking_order():
    images = [_image("a", 0.5), _image("b"), _image("c", 0.9), _image("d", 0.5, 0.5), _image("e", 0.5)]
    queue = rank_images(images)
    assert [im.image[3] for im in queue] == ["c", "d", "a", "e", "b"]
    assert queue[1].score == pytest.approx(0.75)
    assert queue[-1].score == 0 and queue[-1].disputes == ()


def test_json_round_trip(tmp_path):
    labels = lab((0, *A), (1, *B), (2, 215, 35, 255, 75))
    preds = pred((1, *A, 0.9), (2, *C, 0.8), (0, 300, 300, 340, 340, 0.7))
    disputes = score_image(labels, preds, NAMES, calibration=CAL)
    assert {d.kind for d in disputes} == {WRONG_CLASS, SPURIOUS, POOR_LOCALISATION, MISSING}
    images = rank_images([ImageDisputes("/d/x.jpg", "/d/x.txt", image_score(disputes), disputes, 3, 3, 2),
                          ImageDisputes("/d/y.jpg", None, 0.0, (), 0, 0, 1, error="cannot read the image")])
    result = MiningResult("/d", "k-fold", 3, 0, ("/r/fold1/weights/last.pt",), Thresholds(), NAMES, CAL, images,
                          ("k-fold: ...",), 12.5, 20.0, 1.0e9, (0.8, 0.7, 0.75), "/r")
    text = result.to_json()
    assert MiningResult.from_dict(json.loads(text)) == result
    path = result.save(tmp_path / "mining.json")
    loaded = MiningResult.load(path)
    assert loaded == result and loaded.images[0].disputes[0].box_index == disputes[0].box_index
    assert loaded.counts() == {WRONG_CLASS: 1, MISSING: 1, SPURIOUS: 1, POOR_LOCALISATION: 1}
    assert [d.score for _, d in loaded.all_disputes()] == sorted((d.score for d in disputes), reverse=True)
    assert loaded.disputed() == loaded.images[:1] and not loaded.in_sample


def test_json_nan_becomes_null_and_back():
    result = MiningResult("/d", "k-fold", 2, 0, (), Thresholds(conf=0.2), (), Calibration(), (),
                          fold_map50=(math.nan, 0.5))
    data = json.loads(result.to_json())
    assert data["fold_map50"] == [None, 0.5] and data["thresholds"]["conf"] == 0.2
    back = MiningResult.from_dict(data)
    assert math.isnan(back.fold_map50[0]) and back.thresholds == Thresholds(conf=0.2)


def test_load_rejects_other_json(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not a label-mining result"):
        MiningResult.load(path)
