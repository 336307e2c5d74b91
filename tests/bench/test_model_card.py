"""The model card as a contract: what ``train_model`` records, and ``predict`` refusing data that does not match it."""

from __future__ import annotations

import json
import pickle

import pytest

from hardneg import InputOptions, SamplingConfig, build_dataset
from hardneg.bench import predict, train_model
from hardneg.demo import generate_world
from hardneg.errors import InputError

CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]
REORDERED = ["gx", "gy", "gz", "ax", "ay", "az"]


def make_dataset(root, *, sample_rate_hz=100.0, window_ms=500.0, channels=None):
    world = generate_world(
        root / "world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=0, sample_rate_hz=sample_rate_hz
    )
    inputs = InputOptions(events=world.events, groups=world.groups, channels=channels)
    return build_dataset(world.logs, root / "shots", inputs=inputs, config=SamplingConfig(window_ms=window_ms))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    dataset = make_dataset(root)
    return dataset, train_model(dataset.path, root / "model", model="logreg")


def test_the_card_records_the_data_the_threshold_rule_and_both_subsets_metrics(trained):
    _, model = trained
    card = json.loads((model.path / "card.json").read_text())
    assert card == model.card
    assert card["channels"] == CHANNELS and card["sample_rate_hz"] == 100.0 and card["samples_per_window"] == 50
    assert (card["window_ms"], card["lead_ms"], card["align"]) == (500.0, 100.0, "end")
    assert card["threshold_chosen_on"] == "val"
    assert card["threshold_rule"].startswith("max F1 on the validation subset")
    assert set(card["test_metrics"]) == set(card["validation_metrics"])
    assert card["test_windows"] > 0
    # the keys the card had before stay
    for key in ("model", "features", "feature_names", "threshold", "split", "seed", "train_windows", "dataset_sha256"):
        assert key in card


def test_predict_scores_a_matching_dataset_only_when_trusted(trained):
    dataset, model = trained
    with pytest.raises(InputError, match="trust_model|--trust-model"):
        predict(model.path, dataset.path)
    assert len(predict(model.path, dataset.path, trust_model=True)) == len(dataset)


def test_predict_refuses_channels_in_another_order_naming_both_sides(trained, tmp_path):
    _, model = trained
    other = make_dataset(tmp_path, channels=tuple(REORDERED))
    with pytest.raises(InputError) as error:
        predict(model.path, other.path, trust_model=True)
    message = str(error.value)
    assert "\n" not in message
    assert f"channels {','.join(REORDERED)} at 100 Hz, 50 samples per window" in message
    assert f"the model in {model.path} expects {','.join(CHANNELS)} at 100 Hz, 50 samples per window" in message


def test_predict_refuses_another_sample_rate_with_the_same_window_shape(trained, tmp_path):
    _, model = trained
    other = make_dataset(tmp_path, sample_rate_hz=200.0, window_ms=250.0)  # 50 samples per window, as the model's
    assert other.meta["samples_per_window"] == 50
    with pytest.raises(InputError, match=r"at 200 Hz, 50 samples per window; the model in .* at 100 Hz"):
        predict(model.path, other.path, trust_model=True)


class NotAnEstimator:
    pass


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01garbage bytes\xff" * 10, json.dumps({"a": 1}).encode(), pickle.dumps(NotAnEstimator()), b""],
    ids=["garbage", "json", "not-an-estimator", "empty"],
)
def test_a_corrupt_or_foreign_model_file_is_one_line(trained, tmp_path, content):
    dataset, model = trained
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "card.json").write_text((model.path / "card.json").read_text())
    (broken / "model.joblib").write_bytes(content)
    with pytest.raises(InputError) as error:
        predict(broken, dataset.path, trust_model=True)
    assert "\n" not in str(error.value) and str(broken) in str(error.value)
