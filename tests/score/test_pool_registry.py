"""Every registered pool kind keeps the contract: a name, the files it reads, and a minimal item that iterates.

In the style of imbalanced-learn's ``test_common.py``: the checks loop over the
registry, so a new kind is checked as soon as it is registered, and one without
an example below fails :func:`test_every_kind_has_an_example`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg._schema import WINDOW_TABLE_COLUMNS
from hardneg.io._windows import WindowSpan
from hardneg.score import BUILTIN_POOLS, POOL_KINDS, PoolKind, discover_pool, iter_windows, register_pool_kind

WINDOW_MS, HOP_MS, RATE = 100.0, 50.0, 200.0
LENGTH = int(WINDOW_MS * RATE / 1000)  # samples per window
SECONDS = 1.0
#: windows of a one-second item: starts every hop while a whole window fits
TIMED_WINDOWS = int((SECONDS * RATE - LENGTH) // (HOP_MS * RATE / 1000)) + 1
FRAMES, HEIGHT, WIDTH = 4, 8, 12


def _sensor(tmp_path: Path) -> tuple[Path, int, tuple]:
    n = int(SECONDS * RATE)
    values = np.random.default_rng(0).normal(size=(n, 2))
    path = tmp_path / "s01.csv"
    pd.DataFrame({"t_ms": np.arange(n) * 1000.0 / RATE, "ax": values[:, 0], "ay": values[:, 1]}).to_csv(
        path, index=False
    )
    return path, TIMED_WINDOWS, (2, LENGTH)


def _audio(tmp_path: Path) -> tuple[Path, int, tuple]:
    soundfile = pytest.importorskip("soundfile")
    path = tmp_path / "a01.wav"
    soundfile.write(str(path), np.zeros((int(SECONDS * RATE), 1)), int(RATE))
    return path, TIMED_WINDOWS, (1, LENGTH)


def _video(tmp_path: Path) -> tuple[Path, int, tuple]:
    av = pytest.importorskip("av")
    path = tmp_path / "v01.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for value in range(FRAMES):
            image = np.full((HEIGHT, WIDTH, 3), 40 * value, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path, FRAMES, (HEIGHT, WIDTH, 3)


def _image(tmp_path: Path) -> tuple[Path, int, tuple]:
    image = pytest.importorskip("PIL.Image")
    folder = tmp_path / "cam1"
    folder.mkdir()
    for number in range(FRAMES):
        image.fromarray(np.full((HEIGHT, WIDTH, 3), 50 * number, np.uint8)).save(folder / f"{number:03d}.png")
    return folder, FRAMES, (HEIGHT, WIDTH, 3)


#: kind name -> a function of a temporary folder giving (an item's path, its window count, one window's shape)
EXAMPLES = {"sensor": _sensor, "audio": _audio, "video": _video, "image": _image}

KINDS = list(POOL_KINDS)


def test_registry_holds_the_builtin_kinds_in_order():
    assert tuple(KINDS[: len(BUILTIN_POOLS)]) == BUILTIN_POOLS


def test_every_kind_has_an_example():
    missing = sorted(set(KINDS) - set(EXAMPLES))
    assert not missing, f"add a minimal example for pool kind(s) {missing} to EXAMPLES"


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_has_a_name_and_says_what_it_applies_to(name):
    kind = POOL_KINDS[name]
    assert issubclass(kind, PoolKind) and kind.name == name
    assert kind.suffixes and all(suffix.startswith(".") and suffix == suffix.lower() for suffix in kind.suffixes)
    assert all(kind.applies_to(Path(f"x{suffix.upper()}")) for suffix in kind.suffixes)
    assert not kind.applies_to(Path("x.unknown-suffix"))
    assert isinstance(kind.folder_item, bool) and isinstance(kind.timed, bool)


def test_no_suffix_belongs_to_two_kinds():
    seen: dict[str, str] = {}
    for kind in POOL_KINDS.values():
        for suffix in kind.suffixes:
            assert suffix not in seen, f"{suffix} is read by both {seen[suffix]} and {kind.name}"
            seen[suffix] = kind.name


@pytest.mark.parametrize("name", KINDS)
def test_a_minimal_item_iterates_with_the_right_shapes(name, tmp_path):
    kind = POOL_KINDS[name]
    path, count, shape = EXAMPLES[name](tmp_path)
    (item,) = discover_pool([tmp_path])
    assert (item.kind, item.path) == (name, path)
    batch_size = 3
    options = {"window_ms": WINDOW_MS, "hop_ms": HOP_MS} if kind.timed else {}
    batches = list(iter_windows(item, batch_size=batch_size, **options))
    assert [len(batch) for batch, _ in batches] == [min(batch_size, count - start) for start in range(0, count, 3)]
    for batch, table in batches:
        assert batch.shape[1:] == shape
        assert batch.dtype == (np.float32 if kind.timed else np.uint8)
        assert list(table.columns[: len(WINDOW_TABLE_COLUMNS)]) == list(WINDOW_TABLE_COLUMNS)
        assert len(table) == len(batch) and (table["item"] == item.id).all() and (table["group"] == item.group).all()
        assert ("frame" in table.columns) == (not kind.timed)
    raw = list(iter_windows(item, batch_size=batch_size, raw_spans=True, **options))
    assert all(isinstance(span, WindowSpan) and len(span.start_ms) == len(batch) for batch, span in raw)


def test_a_second_kind_with_a_taken_name_or_suffix_is_refused():
    class Impostor(PoolKind):
        name = KINDS[0]
        suffixes = frozenset({".never-used"})

    with pytest.raises(ValueError, match="already registered"):
        register_pool_kind(Impostor)

    class Thief(PoolKind):
        name = "thief"
        suffixes = POOL_KINDS[KINDS[0]].suffixes

    with pytest.raises(ValueError, match="already belong"):
        register_pool_kind(Thief)
    assert "thief" not in POOL_KINDS
