"""Built-in models and baselines, by name.

Every name maps to a fresh, unfitted scikit-learn classifier with
``predict_proba``, seeded so that the same ``(name, seed)`` gives the same
fitted model on the same data:

``logreg``
    standardised logistic regression with balanced class weights;
``et``
    extra trees (200 trees, at least 2 samples per leaf, balanced class
    weights, one job: the benchmark parallelises across fits instead);
``mlp``
    standardised multi-layer perceptron (hidden layers 64 and 32) with early
    stopping on an internal 10% validation split;
``prior``, ``stratified``, ``majority``
    scikit-learn's ``DummyClassifier`` with ``strategy="prior"``,
    ``"stratified"`` and ``"most_frequent"``: the baselines every benchmark
    reports a model's gain against.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from hardneg._schema import BASELINES
from hardneg._validation import check_seed
from hardneg.errors import InputError

__all__ = ["BASELINES", "MODELS", "check_model_name", "make_model"]

MODELS = ("logreg", "et", "mlp")

_DUMMY_STRATEGIES = {"prior": "prior", "stratified": "stratified", "majority": "most_frequent"}


def check_model_name(name: str) -> str:
    """Return ``name`` if it is in :data:`MODELS` or :data:`BASELINES`, else raise :class:`InputError`.

    Examples
    --------
    >>> check_model_name("et")
    'et'
    """
    if name not in MODELS and name not in BASELINES:
        raise InputError(f"unknown model {name!r}; use one of: {', '.join(MODELS + BASELINES)}")
    return name


def make_model(name: str, seed: int) -> BaseEstimator:
    """A fresh, unfitted classifier for model or baseline ``name``, seeded with ``seed``.

    Parameters
    ----------
    name : str
        One of :data:`MODELS` (``"logreg"``, ``"et"``, ``"mlp"``) or
        :data:`BASELINES` (``"prior"``, ``"stratified"``, ``"majority"``).
    seed : int
        ``random_state`` of every random part (the classifier; for ``logreg``
        it only matters for solvers that shuffle, but is set for uniformity).

    Returns
    -------
    estimator : sklearn.base.BaseEstimator
        A classifier with ``fit``, ``predict`` and ``predict_proba``; column
        1 of ``predict_proba`` is the positive class when fitted on labels
        ``{0, 1}``.

    Raises
    ------
    InputError
        If ``name`` is unknown (the message lists the names) or ``seed`` is
        not an integer in [0, 2**32 - 1].

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.9], [1.0]]); y = np.array([0, 0, 1, 1])
    >>> model = make_model("logreg", seed=0).fit(X, y)
    >>> model.predict(X).tolist()
    [0, 0, 1, 1]
    >>> make_model("prior", seed=0).fit(X, y).predict_proba(X[:1]).tolist()
    [[0.5, 0.5]]
    """
    check_model_name(name)
    seed = check_seed(seed)  # numpy's RandomState, which scikit-learn seeds, takes 32-bit seeds
    if name == "logreg":
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("logreg", LogisticRegression(max_iter=1000, class_weight="balanced", random_state=seed)),
            ]
        )
    if name == "et":
        return ExtraTreesClassifier(
            n_estimators=200, min_samples_leaf=2, n_jobs=1, class_weight="balanced", random_state=seed
        )
    if name == "mlp":
        return Pipeline(
            [
                ("scale", StandardScaler()),
                (
                    "mlp",
                    MLPClassifier(hidden_layer_sizes=(64, 32), early_stopping=True, max_iter=300, random_state=seed),
                ),
            ]
        )
    return DummyClassifier(strategy=_DUMMY_STRATEGIES[name], random_state=seed)
