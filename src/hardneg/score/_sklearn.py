"""The ``sklearn`` scorer kind: a model saved by ``hardneg train``, a folder with ``model.joblib`` and ``card.json``.

The card's feature set is computed from each batch with
:func:`hardneg.features.compute_features` and ``predict_proba(...)[:, 1]`` is
the score. Loading unpickles the file, which runs code stored in it, so it is
refused unless ``trust_model``.

Examples
--------
>>> SklearnScorer.applies_to("models/et/model.joblib")
True
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from hardneg._schema import CARD_FILE, MODEL_FILE
from hardneg.errors import InputError
from hardneg.score._base import SPEC_HELP, BaseScorer, first_line, register_scorer

__all__ = ["SklearnScorer"]


@register_scorer
class SklearnScorer(BaseScorer):
    """A scikit-learn model saved by ``hardneg train``/``bench``: ``model.joblib`` plus ``card.json``.

    Each batch of raw windows ``(N, channels, samples)`` is turned into the
    card's feature set (``card["features"]``, at ``card["sample_rate_hz"]``),
    and ``predict_proba(features)[:, 1]`` is the score. The batch must have
    the card's number of channels and samples per window.

    Examples
    --------
    A model folder made by hand (``hardneg train`` writes a fuller card): louder windows are positive.

    >>> import joblib, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from hardneg.features import compute_features
    >>> windows = np.random.default_rng(0).normal(size=(20, 1, 50)).astype(np.float32)
    >>> windows[::2] *= 3
    >>> labels = np.tile([1, 0], 10)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = joblib.dump(LogisticRegression().fit(compute_features(windows, "summary")[0], labels),
    ...                 f"{tmp.name}/model.joblib")
    >>> card = {"features": "summary", "channels": ["ax"], "samples_per_window": 50}
    >>> _ = Path(tmp.name, "card.json").write_text(json.dumps(card))
    >>> scorer = SklearnScorer(tmp.name, tmp.name, trust_model=True)
    >>> scorer(windows[:4]).round(2).tolist()
    [0.99, 0.01, 0.99, 0.01]
    >>> tmp.cleanup()
    """

    kind = "sklearn"

    @classmethod
    def applies_to(cls, spec: str) -> bool:
        if not str(spec).strip():
            return False  # Path("") is the working directory, which no spec means
        path = Path(spec)
        return path.is_dir() or path.name == MODEL_FILE

    @classmethod
    def from_spec(cls, spec: str, *, trust_model: bool = False, logits: bool = False, batch_size: int = 256, **_):
        path = Path(spec)
        folder = path if path.is_dir() else path.parent
        return cls(str(spec), folder, trust_model=trust_model, logits=logits, batch_size=batch_size)

    def __init__(
        self, spec: str, folder: str | Path, *, trust_model: bool = False, logits: bool = False, batch_size: int = 256
    ):
        super().__init__(spec, logits=logits, batch_size=batch_size)
        folder = Path(folder)
        for name in (MODEL_FILE, CARD_FILE):
            if not (folder / name).is_file():
                raise InputError(
                    f"model {self.spec}: not a hardneg model ({name} missing); make one with `hardneg train`, "
                    f"or {SPEC_HELP}",
                    parameter="model",
                )
        if not trust_model:
            raise InputError(
                f"model {self.spec}: loading a scikit-learn model unpickles {MODEL_FILE}, which runs code stored "
                "in the file; pass --trust-model if you made it or trust where it came from",
                parameter="model",
            )
        try:
            self.card = json.loads((folder / CARD_FILE).read_text())
            self.features = self.card["features"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(
                f"model {self.spec}: {CARD_FILE} is unreadable or has no 'features' ({first_line(error)}); "
                "save the model again with `hardneg train`",
                parameter="model",
            ) from None
        from hardneg.features import check_feature_set

        check_feature_set(self.features)
        channels = self.card.get("channels")
        self.n_channels = len(channels) if channels else None
        self.samples_per_window = self.card.get("samples_per_window")
        self.sample_rate_hz = self.card.get("sample_rate_hz")
        import joblib

        try:
            self.estimator = joblib.load(folder / MODEL_FILE)
        except Exception as error:  # unpickling can raise anything the stored code raises
            raise InputError(
                f"model {self.spec}: cannot load {MODEL_FILE}: {type(error).__name__}: {first_line(error)}; "
                "check that scikit-learn's version matches the card's",
                parameter="model",
            ) from None
        if not hasattr(self.estimator, "predict_proba"):
            raise InputError(
                f"model {self.spec}: the stored model has no predict_proba; train a classifier", parameter="model"
            )

    def check_data(
        self,
        what: str,
        channels=None,
        sample_rate_hz: float | None = None,
        samples_per_window: int | None = None,
    ) -> None:
        """Refuse data whose channels (names and order), sample rate or window length differ from the card's.

        ``what`` names the data in the message (``"dataset shots/"``); a value that is ``None`` on either
        side is not compared, so a card without names still checks the rest.

        Raises
        ------
        InputError
            One line naming both sides: what the data has and what the model expects.

        Examples
        --------
        >>> scorer = SklearnScorer.__new__(SklearnScorer)
        >>> scorer.spec, scorer.card = "models/et", {"channels": ["gx", "ax"], "sample_rate_hz": 100.0,
        ...                                          "samples_per_window": 50}
        >>> scorer.check_data("dataset d", ["gx", "ax"], 100.0, 50)
        >>> try:
        ...     scorer.check_data("dataset d", ["ax", "gx"], 200.0, 50)
        ... except InputError as error:
        ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
        dataset d has channels ax,gx at 200 Hz, 50 samples per window;
        the model in models/et expects gx,ax at 100 Hz, 50 samples per window
        """
        card = self.card
        want = (card.get("channels"), card.get("sample_rate_hz"), card.get("samples_per_window"))
        got = (channels, sample_rate_hz, samples_per_window)
        names_differ = want[0] is not None and got[0] is not None and [str(c) for c in got[0]] != list(want[0])
        rate_differs = (
            want[1] is not None and got[1] is not None and not math.isclose(float(got[1]), float(want[1]), rel_tol=0.01)
        )
        length_differs = want[2] is not None and got[2] is not None and int(got[2]) != int(want[2])
        if names_differ or rate_differs or length_differs:
            raise InputError(
                f"{what} has {_describe(*got, has=True)}; the model in {self.spec} expects {_describe(*want)}"
            )

    def _score(self, chunk: np.ndarray) -> np.ndarray:
        from hardneg.features import compute_features

        expected = (self.n_channels, self.samples_per_window)
        if chunk.ndim != 3 or any(want is not None and want != got for want, got in zip(expected, chunk.shape[1:])):
            raise InputError(
                f"model {self.spec}: windows of shape (N, {', '.join(map(str, chunk.shape[1:]))}) but the model "
                f"was trained on {expected[0]} channels x {expected[1]} samples; choose --window-ms and --channels "
                "to match its card",
                parameter="model",
            )
        matrix, _ = compute_features(chunk, self.features, sample_rate_hz=self.sample_rate_hz)
        return self.estimator.predict_proba(matrix)[:, 1]


def _describe(channels, sample_rate_hz, samples_per_window, has: bool = False) -> str:
    parts = [("channels " if has else "") + (",".join(map(str, channels)) if channels else "unnamed channels")]
    if sample_rate_hz is not None:
        parts[0] += f" at {float(sample_rate_hz):g} Hz"
    if samples_per_window is not None:
        parts.append(f"{int(samples_per_window)} samples per window")
    return ", ".join(parts)
