"""Post-processing of score timelines: batch against one-score-at-a-time, brute-force loops, and the boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardneg.errors import InputError
from hardneg.stream import PostProcessing, StreamingDetector, detect, smooth

HOP = 10.0


def _streamed(t, score, chain, hop=HOP):
    detector = StreamingDetector(chain, hop)
    found = [d for ts, s in zip(t, score, strict=True) for d in detector.push(ts, s)] + detector.flush()
    return [tuple(d) for d in found]


def _batch(t, score, chain, hop=HOP):
    return [tuple(row) for row in detect(t, score, hop_ms=hop, chain=chain).itertuples(index=False)]


def _timeline(rng, n):
    """Plateaus and spikes: a random walk of levels with noise, clipped to [0, 1]."""
    levels = np.repeat(rng.uniform(0, 1, n // 20 + 1), 20)[:n]
    return np.clip(levels + rng.normal(0, 0.15, n), 0, 1)


def _runs(t, score, threshold, hop=HOP):
    """Brute force: maximal runs of hops at or above the threshold, first hop's time to the end of the last."""
    out, start = [], None
    for i, value in enumerate(score):
        if value >= threshold and start is None:
            start = i
        if value < threshold and start is not None:
            out.append((t[start], t[i - 1] + hop))
            start = None
    if start is not None:
        out.append((t[start], t[len(score) - 1] + hop))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_default_chain_gives_maximal_runs_at_or_above_the_threshold(seed):
    rng = np.random.default_rng(seed)
    t = 1000.0 + np.arange(500) * HOP
    score = np.round(_timeline(rng, 500), 1)  # rounded: many scores equal the threshold exactly
    found = detect(t, score, hop_ms=HOP, chain=PostProcessing(threshold=0.6))
    assert list(zip(found["on_ms"], found["off_ms"], strict=True)) == _runs(t, score, 0.6)
    for row in found.itertuples():  # the peak is the first hop holding the run's maximum
        inside = (t >= row.on_ms) & (t < row.off_ms)
        assert row.peak_score == score[inside].max() and row.peak_ms == t[inside][np.argmax(score[inside])]


def _random_chain(rng):
    threshold = float(rng.uniform(0.4, 0.8))
    return PostProcessing(
        threshold=threshold,
        off_threshold=float(threshold - rng.uniform(0, 0.3)) if rng.random() < 0.6 else None,
        ema_ms=float(rng.choice([20.0, 50.0, 100.0])) if rng.random() < 0.5 else None,
        median_ms=float(rng.choice([30.0, 50.0, 80.0])) if rng.random() < 0.4 else None,
        patience=int(rng.integers(1, 4)),
        min_on_ms=float(rng.choice([0.0, 20.0, 50.0])),
        min_off_ms=float(rng.choice([0.0, 20.0, 60.0, 150.0])),
        refractory_ms=float(rng.choice([0.0, 100.0, 300.0])),
        max_on_ms=float(rng.choice([40.0, 100.0, 250.0])) if rng.random() < 0.4 else None,
    )


@pytest.mark.parametrize("seed", range(60))
def test_streaming_gives_the_same_detections_as_the_batch(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(50, 800))
    t = 250.0 + np.arange(n) * HOP
    score = _timeline(rng, n)
    chain = _random_chain(rng)
    assert _streamed(t, score, chain) == _batch(t, score, chain)


def test_smoothing_against_loops():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, 300)
    alpha = 1 - math.exp(-HOP / 50.0)
    ema, expected = x[0], []
    for value in x:
        ema = ema + alpha * (value - ema)
        expected.append(ema)
    np.testing.assert_allclose(smooth(x, PostProcessing(ema_ms=50.0), HOP), expected, rtol=1e-12)
    k = 5  # 50 ms of 10 ms hops
    medians = [np.median(x[max(0, i - k + 1) : i + 1]) for i in range(len(x))]
    np.testing.assert_array_equal(smooth(x, PostProcessing(median_ms=50.0), HOP), medians)


def test_hysteresis_and_patience_against_a_state_machine():
    rng = np.random.default_rng(3)
    t = np.arange(2000) * HOP
    score = _timeline(rng, 2000)
    chain = PostProcessing(threshold=0.7, off_threshold=0.4, patience=3)
    on, run, expected, start = False, 0, [], None
    for i, value in enumerate(score):
        run = run + 1 if value >= 0.7 else 0
        if not on and run >= 3:
            on, start = True, i
        elif on and value < 0.4:
            on = False
            expected.append((t[start], t[i - 1] + HOP))
    if on:
        expected.append((t[start], t[-1] + HOP))
    found = detect(t, score, hop_ms=HOP, chain=chain)
    assert list(zip(found["on_ms"], found["off_ms"], strict=True)) == expected and len(expected) > 5


def _two_bursts(gap_hops):
    score = np.zeros(40)
    score[5:10] = 1.0
    score[10 + gap_hops : 15 + gap_hops] = 1.0
    return np.arange(40) * HOP, score


def test_a_gap_exactly_the_minimum_off_time_is_not_merged():
    t, score = _two_bursts(gap_hops=3)  # off at 100 ms, on again at 130 ms: a 30 ms gap
    assert len(detect(t, score, hop_ms=HOP, chain=PostProcessing(min_off_ms=30.0))) == 2
    merged = detect(t, score, hop_ms=HOP, chain=PostProcessing(min_off_ms=30.000001))
    assert merged[["on_ms", "off_ms"]].values.tolist() == [[50.0, 180.0]]


def test_minimum_on_time_and_refractory_boundaries():
    t, score = _two_bursts(gap_hops=3)  # bursts of 50 ms turning on at 50 and 130 ms
    assert len(detect(t, score, hop_ms=HOP, chain=PostProcessing(min_on_ms=50.0))) == 2
    assert len(detect(t, score, hop_ms=HOP, chain=PostProcessing(min_on_ms=50.000001))) == 0
    assert len(detect(t, score, hop_ms=HOP, chain=PostProcessing(refractory_ms=80.0))) == 2
    assert detect(t, score, hop_ms=HOP, chain=PostProcessing(refractory_ms=80.000001))["on_ms"].tolist() == [50.0]


def test_a_long_detection_is_split_into_pieces_of_the_maximum():
    t = np.arange(30) * HOP
    score = np.zeros(30)
    score[2:27] = np.linspace(0.6, 0.9, 25)
    found = detect(t, score, hop_ms=HOP, chain=PostProcessing(max_on_ms=100.0))
    assert found[["on_ms", "off_ms"]].values.tolist() == [[20.0, 120.0], [120.0, 220.0], [220.0, 270.0]]
    assert found["peak_ms"].tolist() == [110.0, 210.0, 260.0]


def test_bad_chains_are_refused_naming_the_parameter():
    with pytest.raises(InputError, match="off_threshold 0.8 is above threshold 0.5") as raised:
        PostProcessing(off_threshold=0.8)
    assert raised.value.parameter == "off_threshold"
    with pytest.raises(InputError, match="patience must be"):
        PostProcessing(patience=0)
