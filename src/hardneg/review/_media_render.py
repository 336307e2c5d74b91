"""How review media are drawn and encoded: JPEG frames, the spectrogram PNG, decimated signals, small embeddings.

Pure functions of arrays (no knowledge of candidates or folders), so the same
input gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

__all__ = [
    "EMBED_SIDE",
    "JPEG_QUALITY",
    "SPECTROGRAM_SIZE",
    "gray_thumbnail",
    "jpeg",
    "json_floats",
    "log_power",
    "min_max_pairs",
    "pool2d",
    "spectrogram_png",
    "zscore",
]

#: As mining's snapshots, so an extracted frame has the pixels its snapshot would have.
JPEG_QUALITY = 90
#: Spectrogram PNG ``(width, height)`` in pixels.
SPECTROGRAM_SIZE = (800, 256)
#: Side of the grayscale thumbnail and of the pooled spectrogram used as embeddings.
EMBED_SIDE = 16
_DYNAMIC_RANGE_DB = 80.0


def jpeg(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), mode="RGB").save(
        buffer, format="JPEG", quality=JPEG_QUALITY
    )
    return buffer.getvalue()


def gray_thumbnail(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        image.draft("L", (EMBED_SIDE, EMBED_SIDE))  # JPEG decodes at 1/2..1/8 scale: most of the speed
        gray = image.convert("L").resize((EMBED_SIDE, EMBED_SIDE), Image.Resampling.BILINEAR)
        return np.asarray(gray, dtype=np.float64)


def zscore(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    spread = values.std()
    centred = values - values.mean()
    return (centred / spread if spread > 0 else np.zeros_like(centred)).astype(np.float32)


def pool2d(matrix: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Means over a ``rows x cols`` grid of cells (a cell never empty: small inputs repeat)."""
    out = np.empty((rows, cols))
    r_edges = np.linspace(0, matrix.shape[0], rows + 1).astype(int)
    c_edges = np.linspace(0, matrix.shape[1], cols + 1).astype(int)
    for r in range(rows):
        r0 = min(r_edges[r], matrix.shape[0] - 1)
        r1 = max(r_edges[r + 1], r0 + 1)
        for c in range(cols):
            c0 = min(c_edges[c], matrix.shape[1] - 1)
            out[r, c] = matrix[r0:r1, c0 : max(c_edges[c + 1], c0 + 1)].mean()
    return out


def log_power(signal: np.ndarray, nfft: int = 256) -> np.ndarray:
    """Frames (hop ``nfft/2``, Hann) by frequency bins, in dB."""
    nfft = int(min(nfft, max(16, 2 ** int(np.floor(np.log2(max(len(signal), 16)))))))
    if len(signal) < nfft:
        signal = np.pad(signal, (0, nfft - len(signal)))
    hop = nfft // 2
    starts = np.arange(0, len(signal) - nfft + 1, hop)
    frames = signal[starts[:, None] + np.arange(nfft)] * np.hanning(nfft)
    return 10.0 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12)


def spectrogram_png(signal: np.ndarray, rate: float) -> bytes:
    """A :data:`SPECTROGRAM_SIZE` PNG of ``signal``: time left to right, frequency bottom (0 Hz) to top (rate / 2).

    Pixel column ``x`` is the Hann-windowed FFT centred at sample
    ``(x + 0.5) * len(signal) / width``, so it shows the time
    ``[x, x + 1) * span / width`` from the span's start: a time ``t`` of the
    span lies at ``x = (t - start_ms) / (end_ms - start_ms) * width``. Row ``y``
    (0 at the top) shows the frequency ``(1 - (y + 0.5) / height) * rate / 2``
    (nearest FFT bin). Colours: viridis over the top 80 dB of the clip.
    """
    from PIL import Image

    width, height = SPECTROGRAM_SIZE
    nfft = int(np.clip(2 ** int(np.round(np.log2(max(rate * 0.032, 1.0)))), 64, 2048))  # ~32 ms of sound
    half = nfft // 2
    padded = np.pad(np.asarray(signal, dtype=np.float64), (half, half))
    centres = np.floor((np.arange(width) + 0.5) * len(signal) / width).astype(np.int64)
    frames = padded[centres[:, None] + np.arange(nfft)] * np.hanning(nfft)  # padded index c + k = sample c - half + k
    decibels = 10.0 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-20)  # (width, half + 1)
    freqs = (1.0 - (np.arange(height) + 0.5) / height) * (rate / 2.0)
    bins = np.clip(np.round(freqs / (rate / nfft)).astype(np.int64), 0, half)
    image = decibels[:, bins].T  # (height, width), top row the highest frequency
    top = image.max()
    level = np.clip((image - (top - _DYNAMIC_RANGE_DB)) / _DYNAMIC_RANGE_DB, 0.0, 1.0)
    rgb = viridis()[np.round(level * 255).astype(np.uint8)]
    buffer = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buffer, format="PNG")  # Pillow writes no date: same clip, same bytes
    return buffer.getvalue()


_VIRIDIS: list[np.ndarray] = []


def viridis() -> np.ndarray:
    if not _VIRIDIS:
        from matplotlib import colormaps

        _VIRIDIS.append(np.round(colormaps["viridis"](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8))
    return _VIRIDIS[0]


def min_max_pairs(index: np.ndarray, columns: list[np.ndarray], buckets: int):
    """Two points per bucket: its first and last sample times, each channel's extremes in time order."""
    size = int(np.ceil(len(index) / buckets))
    count = int(np.ceil(len(index) / size))
    pad = count * size - len(index)
    starts = index[::size]
    ends = np.append(index[size - 1 :: size], index[-1])[:count]
    times = np.stack([starts, ends], axis=1).ravel()
    out = []
    for column in columns:
        values = np.pad(np.asarray(column, dtype=np.float64), (0, pad), mode="edge").reshape(count, size)
        missing = np.isnan(values)
        low = np.argmin(np.where(missing, np.inf, values), axis=1)
        high = np.argmax(np.where(missing, -np.inf, values), axis=1)
        first, second = np.minimum(low, high), np.maximum(low, high)
        rows = np.arange(count)
        out.append(np.stack([values[rows, first], values[rows, second]], axis=1).ravel())
    return times, out


def json_floats(values: np.ndarray) -> list:
    """Floats for JSON: NaN and infinities as ``None``; float32 in its shortest form (``0.1``, not ``0.10000000149011612``)."""
    values = np.asarray(values)
    if values.dtype == np.float32:
        return [float(str(v)) if np.isfinite(v) else None for v in values]
    return [v if np.isfinite(v) else None for v in values.astype(np.float64).tolist()]
