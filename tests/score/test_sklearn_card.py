"""The ``sklearn`` scorer holds data to its card: :meth:`SklearnScorer.check_data`, and one-line load errors."""

from __future__ import annotations

import json

import pytest

from hardneg.errors import InputError
from hardneg.score import SklearnScorer

CARD = {"features": "summary", "channels": ["ax", "ay"], "sample_rate_hz": 100.0, "samples_per_window": 50}


def scorer_with(card: dict) -> SklearnScorer:
    scorer = SklearnScorer.__new__(SklearnScorer)  # the check needs only the card, not a fitted model
    scorer.spec, scorer.card = "models/m", card
    return scorer


def test_matching_data_passes_and_unknown_sides_are_not_compared():
    scorer = scorer_with(CARD)
    scorer.check_data("dataset d", ["ax", "ay"], 100.0, 50)
    scorer.check_data("dataset d", ["ax", "ay"], 100.4, 50)  # a jittery clock's estimate is the same rate
    scorer.check_data("dataset d", None, None, None)
    scorer_with({"features": "summary"}).check_data("dataset d", ["ay", "ax"], 200.0, 10)


@pytest.mark.parametrize(
    "got, needle",
    [
        ((["ay", "ax"], 100.0, 50), "channels ay,ax at 100 Hz"),
        ((["ax", "ay"], 200.0, 50), "channels ax,ay at 200 Hz"),
        ((["ax", "ay"], 100.0, 25), "25 samples per window"),
    ],
)
def test_a_mismatch_is_one_line_naming_both_sides(got, needle):
    with pytest.raises(InputError) as error:
        scorer_with(CARD).check_data("pool item p.csv", *got)
    message = str(error.value)
    assert message.startswith("pool item p.csv has ") and needle in message and "\n" not in message
    assert message.endswith("the model in models/m expects ax,ay at 100 Hz, 50 samples per window")


@pytest.mark.parametrize("content", [b"garbage\x00\xff", b'{"a": 1}', b""])
def test_a_foreign_model_file_is_one_line(tmp_path, content):
    (tmp_path / "card.json").write_text(json.dumps(CARD))
    (tmp_path / "model.joblib").write_bytes(content)
    with pytest.raises(InputError, match="cannot load model.joblib") as error:
        SklearnScorer(str(tmp_path), tmp_path, trust_model=True)
    assert "\n" not in str(error.value)


def test_an_untrusted_model_is_refused_before_it_is_read(tmp_path):
    (tmp_path / "card.json").write_text(json.dumps(CARD))
    (tmp_path / "model.joblib").write_bytes(b"never unpickled")
    with pytest.raises(InputError, match="--trust-model"):
        SklearnScorer(str(tmp_path), tmp_path)
