"""User mistakes with ``hardneg split`` and ``hardneg audit``: each exits 2 with one ``error:`` line that names
what is wrong (the file, the option), and no traceback."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.helpers.cli import assert_refused
from tests.helpers.mistakes import Cases, build_base, copy_dataset

split_cases = Cases()
audit_cases = Cases()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.getbasetemp() / "mistakes-base")


# ---------------------------------------------------------------------------- split


@split_cases.add
def dataset_path_missing(base, tmp):
    return ["split", tmp / "nothere"], ["nothere", "not a hardneg dataset"]


@split_cases.add
def dataset_is_a_log_file(base, tmp):
    return ["split", base.logs[0]], ["s01.parquet", "not a hardneg dataset"]


@split_cases.add
def dataset_without_index(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    (spoilt / "index.parquet").unlink()
    return ["split", spoilt], ["index.parquet"]


@split_cases.add
def dataset_without_meta(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    (spoilt / "meta.json").unlink()
    return ["split", spoilt], ["meta.json"]


@split_cases.add
def corrupt_index_parquet(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    data = (spoilt / "index.parquet").read_bytes()
    (spoilt / "index.parquet").write_bytes(data[: len(data) // 2])
    return ["split", spoilt], ["index.parquet"]


@split_cases.add
def meta_json_not_json(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    (spoilt / "meta.json").write_text("{not json")
    return ["split", spoilt], ["meta.json"]


@split_cases.add
def index_parquet_of_something_else(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    pd.DataFrame({"a": [1, 2]}).to_parquet(spoilt / "index.parquet")
    return ["split", spoilt], ["index.parquet"]


@split_cases.add
def unknown_strategy(base, tmp):
    return ["split", base.dataset, "--strategy", "groups"], ["--strategy", "groups"]


@split_cases.add
def zero_test_size(base, tmp):
    return ["split", base.dataset, "--test-size", "0"], ["--test-size"]


@split_cases.add
def percent_test_size(base, tmp):
    return ["split", base.dataset, "--test-size", "20"], ["--test-size"]


@split_cases.add
def val_size_negative(base, tmp):
    return ["split", base.dataset, "--val-size", "-0.1"], ["--val-size"]


@split_cases.add
def sizes_leave_nothing(base, tmp):
    return ["split", base.dataset, "--strategy", "random", "--test-size", "0.6", "--val-size", "0.99"], ["--val-size"]


@split_cases.add
def one_fold(base, tmp):
    return ["split", base.dataset, "--n-splits", "1"], ["--n-splits"]


@split_cases.add
def more_folds_than_groups(base, tmp):
    return ["split", base.dataset, "--n-splits", "50"], ["--n-splits", "50"]


@split_cases.add
def unknown_test_groups(base, tmp):
    return ["split", base.dataset, "--test-groups", "nobody"], ["--test-groups", "nobody"]


@split_cases.add
def random_with_test_groups(base, tmp):
    return ["split", base.dataset, "--strategy", "random", "--test-groups", "A"], ["--test-groups"]


@split_cases.add
def folds_with_test_groups(base, tmp):
    group = pd.read_csv(base.groups)["group"].iloc[0]
    return ["split", base.dataset, "--test-groups", group, "--n-splits", "3"], ["--test-groups"]


@split_cases.add
def negative_gap(base, tmp):
    return ["split", base.dataset, "--strategy", "time", "--gap-ms", "-5"], ["--gap-ms"]


@split_cases.add
def oversample_above_one(base, tmp):
    return ["split", base.dataset, "--oversample-pos-to", "1.5"], ["--oversample-pos-to"]


@split_cases.add
def name_with_a_slash(base, tmp):
    return ["split", base.dataset, "--name", "a/b"], ["--name", "a/b"]


@split_cases.add
def name_that_is_a_strategy(base, tmp):
    return ["split", base.dataset, "--name", "random"], ["--name", "random"]


@split_cases.add
def name_taken_without_overwrite(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    return ["split", spoilt, "--name", "hold"], ["hold", "--overwrite"]


@split_cases.add
def split_one_class_no_negatives(base, tmp):
    return ["split", base.no_negatives], ["only positive", "negative"]


@split_cases.add
def split_one_class_no_positives(base, tmp):
    return ["split", base.no_positives], ["only negative", "positive"]


@split_cases.add
def non_numeric_seed(base, tmp):
    return ["split", base.dataset, "--seed", "first"], ["--seed"]


@split_cases.add
def split_unknown_deployment(base, tmp):
    return ["split", base.dataset, "--deployment", "production"], ["--deployment"]


# ---------------------------------------------------------------------------- audit


@audit_cases.add
def audit_without_split(base, tmp):
    return ["audit", base.dataset], ["--split"]


@audit_cases.add
def audit_unknown_split(base, tmp):
    return ["audit", base.dataset, "--split", "holdout"], ["holdout"]


@audit_cases.add
def audit_dataset_missing(base, tmp):
    return ["audit", tmp / "nothere", "--split", "hold"], ["nothere"]


@audit_cases.add
def audit_split_of_another_dataset(base, tmp):
    spoilt = copy_dataset(base.other_dataset, tmp / "ds")
    (spoilt / "splits").mkdir(exist_ok=True)
    for path in (base.dataset / "splits").glob("hold.*"):
        shutil.copy(path, spoilt / "splits" / path.name)
    return ["audit", spoilt, "--split", "hold"], ["hold", "another dataset"]


@audit_cases.add
def audit_corrupt_split_file(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    (spoilt / "splits" / "hold.parquet").write_bytes(b"PAR1 garbage")
    return ["audit", spoilt, "--split", "hold"], ["hold.parquet"]


@audit_cases.add
def audit_predictions_missing(base, tmp):
    return ["audit", base.dataset, "--split", "hold", "--predictions", tmp / "p.parquet"], ["p.parquet"]


@audit_cases.add
def audit_predictions_without_score(base, tmp):
    pd.DataFrame({"window_id": [0, 1], "prob": [0.1, 0.2]}).to_parquet(tmp / "p.parquet")
    return ["audit", base.dataset, "--split", "hold", "--predictions", tmp / "p.parquet"], ["p.parquet", "score"]


@audit_cases.add
def audit_predictions_unknown_window_ids(base, tmp):
    n = len(pd.read_parquet(base.dataset / "index.parquet"))
    pd.DataFrame({"window_id": [n + 5, n + 6], "score": [0.1, 0.2]}).to_parquet(tmp / "p.parquet")
    return ["audit", base.dataset, "--split", "hold", "--predictions", tmp / "p.parquet"], ["p.parquet", "window_id"]


@audit_cases.add
def audit_predictions_nan_scores(base, tmp):
    n = len(pd.read_parquet(base.dataset / "index.parquet"))
    pd.DataFrame({"window_id": range(n), "score": float("nan")}).to_parquet(tmp / "p.parquet")
    return ["audit", base.dataset, "--split", "hold", "--predictions", tmp / "p.parquet"], ["p.parquet", "score"]


@audit_cases.add
def audit_predictions_as_csv_text(base, tmp):
    (tmp / "p.txt").write_text("window_id,score\n0,0.5\n")
    return ["audit", base.dataset, "--split", "hold", "--predictions", tmp / "p.txt"], ["p.txt"]


@audit_cases.add
def audit_confidence_as_percent(base, tmp):
    return ["audit", base.dataset, "--split", "hold", "--confidence", "95"], ["--confidence"]


@audit_cases.add
def audit_split_json_damaged(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    (spoilt / "splits" / "hold.json").write_text(json.dumps({"strategy": 3})[:-3])
    return ["audit", spoilt, "--split", "hold"], ["hold.json"]


@pytest.mark.parametrize("case_id", split_cases.ids)
def test_split_mistake(base, tmp_path, case_id):
    result, needles = split_cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)


@pytest.mark.parametrize("case_id", audit_cases.ids)
def test_audit_mistake(base, tmp_path, case_id):
    result, needles = audit_cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)
