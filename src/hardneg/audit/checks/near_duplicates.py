"""near_duplicates: validation and test windows with an exact or near copy among the training windows.

Exact copies are found by hashing every window's bytes. Near copies are
windows whose z-normalised signals correlate at :data:`NEAR_CORRELATION` or
more. Comparing every test window with every training window costs
``N_test x N_train x C x T`` operations (over 10^11 for 40,000 windows), so
the search runs in a low-dimensional embedding where distances are lower
bounds of the true ones, and only the few nearest candidates are checked
exactly:

* each window becomes a unit vector ``u`` (every channel z-normalised, the
  channels concatenated, the whole scaled to length 1), so that
  ``corr = u . v`` and ``|u - v|^2 = 2 - 2 corr``; ``corr >= 0.99`` is
  ``|u - v| <= sqrt(0.02)``;
* PCA (fitted on a sample) projects ``u`` on :data:`N_COMPONENTS`
  directions and adds the length of the residual as one more coordinate.
  By Pythagoras and the triangle inequality, distances there never exceed
  the true ones;
* for each queried window the :data:`N_CANDIDATES` nearest training
  windows in the embedding are checked exactly. A window whose nearest
  candidate is already farther than the threshold provably has no near
  copy; one whose candidates all fail while more might qualify is checked
  against every training window.

So every count is exact for the queried windows; at most
:data:`MAX_QUERIES` windows per subset and fold are queried (a seeded
sample, fewer with many folds), and the near-copy shares are estimates from
that sample. Exact copies are counted over every window.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import in_fold, pct, skip

NAME = "near_duplicates"

#: Correlation at which two windows count as near copies: at 0.99 the residual is 1% of the variance, below the
#: noise of most sensors, so the model sees the same input twice.
NEAR_CORRELATION = 0.99
#: Share of scored windows with an exact copy in training that fails the split. A handful of exact copies can be
#: innocent (a flat-lined sensor gives identical windows); 1% of a test set is not.
EXACT_FAIL_SHARE = 0.01
#: Shares of scored windows with a near copy in training: 5% and more moves a metric by points (FAIL); 1% is worth
#: knowing (WARN), smaller shares are within the noise of any split.
NEAR_FAIL_SHARE = 0.05
NEAR_WARN_SHARE = 0.01
#: Embedding size: 24 directions keep most of the variance of stereotyped signals (beats, gestures), so the lower
#: bound is tight and the nearest candidates are the true ones.
N_COMPONENTS = 24
N_CANDIDATES = 8
#: Windows queried per subset and fold; a 4,000-window sample gives a share to within about +-0.7 points. With many
#: folds the budget of QUERY_BUDGET windows is shared out (at least MIN_QUERIES each, +-1.4 points), so a 5-fold
#: split costs about what a holdout does.
MAX_QUERIES = 4000
MIN_QUERIES = 1000
QUERY_BUDGET = 8000
#: Windows the PCA is fitted on (fewer for very long windows, see _CHUNK_BYTES).
PCA_SAMPLE = 5000
#: Queried windows at most that are compared with every training window when the embedding cannot decide.
MAX_EXHAUSTIVE = 1000
#: Unit vectors of all windows stay in memory up to this size (40,000 ECG windows of 2 x 216 samples take 69 MB);
#: beyond it (long audio or video windows) they are recomputed from the windows for the rows each step needs.
MAX_UNIT_BYTES = 256 << 20
#: Working memory of one block of float64 rows.
_CHUNK_BYTES = 32 << 20


class _Embedding:
    """Hashes, unit vectors and lower-bound embedding of the windows a split uses."""

    def __init__(self, windows, ids: np.ndarray, rng: np.random.Generator):
        self.windows, self.ids = windows, ids  # ids sorted, unique
        n, dims = len(ids), int(np.prod(windows.shape[1:]))
        self.block = int(max(1, min(4096, _CHUNK_BYTES // (8 * dims))))
        self._unit = np.zeros((n, dims), dtype=np.float32) if n * dims * 4 <= MAX_UNIT_BYTES else None
        digests, self.usable = [], np.zeros(n, dtype=bool)
        for start in range(0, n, self.block):
            chunk = np.ascontiguousarray(windows[ids[start : start + self.block]])
            digests.extend(hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in chunk)
            unit = _unit_vectors(chunk)
            self.usable[start : start + len(chunk)] = unit.any(axis=1)  # all-constant windows have no shape
            if self._unit is not None:
                self._unit[start : start + len(chunk)] = unit
        self.hash_code = pd.factorize(pd.Series(digests, dtype=object))[0]
        usable = np.flatnonzero(self.usable)
        n_components = min(N_COMPONENTS, dims, max(len(usable) - 1, 1))
        n_sample = min(PCA_SAMPLE, max(500, 2 * _CHUNK_BYTES // (8 * dims)))
        sample = usable if len(usable) <= n_sample else np.sort(rng.choice(usable, n_sample, replace=False))
        self.pca = PCA(n_components=n_components, svd_solver="randomized", random_state=int(rng.integers(2**31 - 1)))
        self.pca.fit(self.unit(sample).astype(np.float64))
        self.embedded = np.zeros((n, n_components + 1))
        for start in range(0, n, self.block):
            rows = np.arange(start, min(start + self.block, n))
            centred = self.unit(rows).astype(np.float64) - self.pca.mean_
            projected = centred @ self.pca.components_.T
            self.embedded[rows, :-1] = projected
            self.embedded[rows, -1] = np.linalg.norm(centred - projected @ self.pca.components_, axis=1)

    def rows(self, window_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, window_ids)

    def unit(self, rows: np.ndarray) -> np.ndarray:
        """Unit vectors of ``rows`` (any shape), from memory or recomputed from the windows."""
        rows = np.asarray(rows)
        if self._unit is not None:
            return self._unit[rows]
        unique, inverse = np.unique(rows.ravel(), return_inverse=True)
        unit = _unit_vectors(np.ascontiguousarray(self.windows[self.ids[unique]]))
        return unit[inverse].reshape(*rows.shape, -1)


def _unit_vectors(chunk: np.ndarray) -> np.ndarray:
    x = chunk.astype(np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    std = x.std(axis=-1, keepdims=True)
    # A constant channel leaves rounding noise of about 1e-7 of its level (float32); that is not a shape.
    x = np.divide(x, std, out=np.zeros_like(x), where=std > 1e-6 * np.abs(mean) + 1e-30)
    flat = x.reshape(len(x), -1)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    return np.divide(flat, norm, out=np.zeros_like(flat), where=norm > 0).astype(np.float32)


def _near_copies(emb: _Embedding, train_rows: np.ndarray, query_rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Whether each query window correlates >= NEAR_CORRELATION with some training window; and how many stayed open."""
    found = np.zeros(len(query_rows), dtype=bool)
    train_rows = train_rows[emb.usable[train_rows]]
    usable = emb.usable[query_rows]
    if len(train_rows) == 0 or not usable.any():
        return found, 0
    radius = math.sqrt(2.0 - 2.0 * NEAR_CORRELATION)
    k = min(N_CANDIDATES, len(train_rows))
    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(emb.embedded[train_rows])
    queries = query_rows[usable]
    distance, neighbour = index.kneighbors(emb.embedded[queries])
    candidates = train_rows[neighbour]
    hit = np.zeros(len(queries), dtype=bool)
    step = max(1, emb.block // (k + 1))
    for start in range(0, len(queries), step):
        # exact correlations of the candidates: row-wise dot products of unit vectors
        part = slice(start, start + step)
        corr = np.einsum("qd,qkd->qk", emb.unit(queries[part]), emb.unit(candidates[part]))
        hit[part] = (corr >= NEAR_CORRELATION).any(axis=1)
    # all k candidates failed, yet the k-th is within the radius in the lower-bound space: others might qualify
    undecided = np.flatnonzero(~hit & (distance[:, -1] <= radius) & (k < len(train_rows)))
    open_rows = undecided[:MAX_EXHAUSTIVE]
    for start in range(0, len(open_rows), 256):
        block = open_rows[start : start + 256]
        query_unit = emb.unit(queries[block])
        for train_start in range(0, len(train_rows), emb.block):
            train_unit = emb.unit(train_rows[train_start : train_start + emb.block])
            hit[block] |= (query_unit @ train_unit.T >= NEAR_CORRELATION).any(axis=1)
    found[np.flatnonzero(usable)] = hit
    return found, len(undecided) - len(open_rows)


@register_check(NAME)
def near_duplicates(context) -> CheckResult:
    """Validation and test windows with an exact or near (correlation >= 0.99) copy among the training windows."""
    rng = context.rng(NAME)
    emb = _Embedding(context.dataset.windows, context.used_window_ids, rng)
    per_fold, any_pair, unresolved = [], False, 0
    frame = context.split_frame
    n_pairs = len(frame.loc[frame["subset"] != "train", ["fold", "subset"]].drop_duplicates())
    max_queries = int(np.clip(QUERY_BUDGET // max(n_pairs, 1), MIN_QUERIES, MAX_QUERIES))
    worst = {"exact": (0.0, None), "near": (0.0, None)}  # share, where
    for fold in context.folds:
        rows = context.fold_assignments(fold)
        train_ids = rows.loc[rows["subset"] == "train", "window_id"].to_numpy()
        if len(train_ids) == 0:
            continue
        train_rows = emb.rows(train_ids)
        train_hashes = np.unique(emb.hash_code[train_rows])
        entry = {"fold": fold}
        for subset in ("val", "test"):
            ids = rows.loc[rows["subset"] == subset, "window_id"].to_numpy()
            if len(ids) == 0:
                continue
            any_pair = True
            query_rows = emb.rows(ids)
            exact = np.isin(emb.hash_code[query_rows], train_hashes)
            sample = (
                query_rows if len(query_rows) <= max_queries else rng.choice(query_rows, max_queries, replace=False)
            )
            near, open_count = _near_copies(emb, train_rows, sample)
            unresolved += open_count
            entry[subset] = {
                "windows": len(ids),
                "exact": int(exact.sum()),
                "exact_share": float(exact.mean()),
                "near_share": float(near.mean()),
                "near_queried": len(sample),
            }
            for kind in ("exact", "near"):
                if entry[subset][f"{kind}_share"] > worst[kind][0]:
                    worst[kind] = (entry[subset][f"{kind}_share"], f"{subset}{in_fold(context, fold)}")
        per_fold.append(entry)
    if not any_pair:
        return skip(NAME, "No fold has both training and validation/test windows, so nothing can be copied across.")

    numbers = {
        "near_duplicate_share": max(e[s]["near_share"] for e in per_fold for s in ("val", "test") if s in e),
        "exact_duplicate_share": max(e[s]["exact_share"] for e in per_fold for s in ("val", "test") if s in e),
        "exact_duplicates": sum(e[s]["exact"] for e in per_fold for s in ("val", "test") if s in e),
        "correlation_threshold": NEAR_CORRELATION,
        "windows_compared": len(emb.ids),
        "unresolved": unresolved,
        "per_fold": per_fold,
    }
    exact_share, near_share = numbers["exact_duplicate_share"], numbers["near_duplicate_share"]
    near_text = f"near copy (correlation of the z-normalised signals >= {NEAR_CORRELATION}) in training"
    if exact_share > 0:
        measured = (
            f"Up to {pct(exact_share)} of the validation/test windows ({worst['exact'][1]}) have an exact, "
            f"byte-for-byte copy in training"
        )
    else:
        measured = "No validation or test window has an exact, byte-for-byte copy in training"
    if near_share > 0:
        measured += f", and up to {pct(near_share)} ({worst['near'][1]}) have a {near_text}."
    else:
        measured += f", and none has a {near_text}."
    if exact_share >= EXACT_FAIL_SHARE or near_share >= NEAR_FAIL_SHARE:
        verdict, advice = (
            FAIL,
            (
                " The model is scored on inputs it has already seen (overlapping or repeated windows, sampling with "
                "replacement, a stereotyped signal recorded twice), so the score measures memory, not detection. Remove "
                "duplicates before splitting (`--neg-min-sep-ms`, no `--neg-with-replacement`) and split by group or by "
                "time with a purge gap so that copies of one stretch of signal stay on one side."
            ),
        )
    elif exact_share > 0 or near_share >= NEAR_WARN_SHARE:
        verdict, advice = (
            WARN,
            (
                " A few copies move a metric little, but they are a sign of overlapping or repeated windows; check that "
                "they are not a flat-lined sensor or a recording included twice."
            ),
        )
    else:
        verdict, advice = PASS, " Copies across subsets are too rare to move a score."
    if unresolved:
        advice += (
            f" ({unresolved} queried windows could not be resolved within the search budget; shares are lower bounds.)"
        )
    return CheckResult(NAME, verdict, numbers, measured + advice)
