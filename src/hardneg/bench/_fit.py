"""One fit and one feature matrix, as every stage that trains (bench, experiment) does them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hardneg.bench._user import (
    WINDOWS_INPUT,
    compute_user_features,
    fit_user_estimator,
    is_spec,
    make_user_estimator,
    model_input,
    positive_scores,
)
from hardneg.features import compute_features
from hardneg.models import make_model

__all__ = ["feature_matrix", "fit_classifier", "positive_scores", "takes_windows"]


def takes_windows(model_name: str) -> bool:
    """Whether ``model_name`` is a user factory whose estimator is fitted on the windows themselves."""
    return is_spec(model_name) and model_input(model_name) == WINDOWS_INPUT


def fit_classifier(model_name: str, seed: int, x, y):
    """A fresh estimator for ``model_name`` (built-in or ``file.py:make``) and ``seed``, fitted on ``(x, y)``.

    A user estimator's failure is one :class:`~hardneg.errors.InputError` line naming the factory.

    Examples
    --------
    >>> x = np.array([[0.0], [0.2], [0.9], [1.0]])
    >>> model = fit_classifier("logreg", 0, x, np.array([0, 0, 1, 1]))
    >>> positive_scores(model, x).round(2).tolist()
    [0.22, 0.31, 0.71, 0.75]
    """
    if is_spec(model_name):
        return fit_user_estimator(model_name, make_user_estimator(model_name, seed), x, y)
    return make_model(model_name, seed).fit(x, y)


def feature_matrix(
    feature_name: str, windows: np.ndarray, index: pd.DataFrame, *, sample_rate_hz: float | None = None
) -> np.ndarray:
    """The feature set ``feature_name`` (built-in or ``file.py:function``) of ``windows`` (N, C, T).

    Examples
    --------
    >>> feature_matrix("summary", np.ones((2, 1, 8), dtype=np.float32), pd.DataFrame(index=[0, 1])).shape[0]
    2
    """
    if is_spec(feature_name):
        return compute_user_features(feature_name, windows, index)
    return compute_features(windows, feature_name, sample_rate_hz=sample_rate_hz)[0]
