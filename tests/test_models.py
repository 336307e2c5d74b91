"""Built-in models: they fit and give probabilities, baselines are DummyClassifier, seeds reproduce."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score

from hardneg.errors import InputError
from hardneg.models import BASELINES, MODELS, make_model


def separable(n=240, seed=0):
    """Two Gaussian blobs 4 standard deviations apart in 6 features, 1 positive for every 3 negatives."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(np.int64)
    X = rng.normal(size=(n, 6)) * 3.0 + 10.0  # not standardised: the pipelines must scale
    X[:, :2] += 12.0 * y[:, None]
    return X, y


@pytest.mark.parametrize("name", MODELS)
def test_model_separates_a_separable_problem_with_probabilities(name):
    X, y = separable()
    X_test, y_test = separable(seed=1)
    model = make_model(name, seed=0).fit(X, y)
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(model.classes_) == [0, 1]
    assert roc_auc_score(y_test, proba[:, 1]) > 0.98
    assert (model.predict(X_test) == y_test).mean() > 0.9  # mlp stops early on 24 validation rows


@pytest.mark.parametrize("name", MODELS + BASELINES)
def test_same_seed_same_probabilities(name):
    X, y = separable()
    first = make_model(name, seed=7).fit(X, y).predict_proba(X)
    second = make_model(name, seed=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", ["et", "mlp", "stratified"])
def test_other_seed_other_model(name):
    X, y = separable()
    first = make_model(name, seed=1).fit(X, y).predict_proba(X)
    second = make_model(name, seed=2).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("name, strategy", list(zip(BASELINES, ["prior", "stratified", "most_frequent"])))
def test_baselines_are_dummy_classifiers(name, strategy):
    X, y = separable()
    model = make_model(name, seed=3)
    reference = DummyClassifier(strategy=strategy, random_state=3)
    assert isinstance(model, DummyClassifier)
    assert model.get_params() == reference.get_params()
    np.testing.assert_array_equal(model.fit(X, y).predict_proba(X), reference.fit(X, y).predict_proba(X))
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))


def test_baseline_probabilities_by_hand():
    X, y = separable()
    prior = y.mean()
    np.testing.assert_allclose(make_model("prior", 0).fit(X, y).predict_proba(X[:3])[:, 1], prior)
    assert (make_model("majority", 0).fit(X, y).predict_proba(X[:3])[:, 1] == 0).all()  # most frequent is 0
    stratified = make_model("stratified", 0).fit(X, y).predict_proba(X)[:, 1]
    assert set(np.unique(stratified)) <= {0.0, 1.0}


def test_parameters_are_those_of_the_contract():
    logreg = make_model("logreg", 5).get_params()
    assert logreg["logreg__max_iter"] == 1000 and logreg["logreg__class_weight"] == "balanced"
    assert [step for step, _ in make_model("logreg", 5).steps] == ["scale", "logreg"]
    et = make_model("et", 5).get_params()
    assert (et["n_estimators"], et["min_samples_leaf"], et["n_jobs"], et["class_weight"], et["random_state"]) == (
        200,
        2,
        1,
        "balanced",
        5,
    )
    mlp = make_model("mlp", 5).get_params()
    assert mlp["mlp__hidden_layer_sizes"] == (64, 32)
    assert mlp["mlp__early_stopping"] is True and mlp["mlp__max_iter"] == 300 and mlp["mlp__random_state"] == 5


def test_each_call_gives_a_fresh_clonable_estimator():
    X, y = separable()
    first, second = make_model("logreg", 0), make_model("logreg", 0)
    assert first is not second
    first.fit(X, y)
    assert not hasattr(second, "classes_")
    scores = cross_val_score(clone(make_model("et", 0)), X, y, cv=3, scoring="roc_auc")
    assert scores.min() > 0.95


def test_unknown_name_lists_the_names():
    with pytest.raises(
        InputError, match=r"unknown model 'svm'; use one of: logreg, et, mlp, prior, stratified, majority"
    ):
        make_model("svm", 0)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "3", True])
def test_bad_seed_is_named(seed):
    with pytest.raises(InputError, match=r"seed must be an integer in \[0, 4294967295\]"):
        make_model("et", seed)


def test_numpy_integer_seed_is_accepted():
    assert make_model("et", np.int64(4)).get_params()["random_state"] == 4


def test_seed_rule_is_the_shared_one():
    from hardneg._schema import BASELINES as SHARED_BASELINES
    from hardneg._validation import check_seed

    with pytest.raises(InputError) as caught:
        make_model("logreg", -1)
    assert caught.value.parameter == "seed"
    with pytest.raises(InputError) as shared:
        check_seed(-1)
    assert str(caught.value) == str(shared.value)
    assert BASELINES == SHARED_BASELINES
