"""Whole timelines: what a deployed detector does between and around events.

So far: the causal post-processing chain (smoothing, hysteresis with patience,
merge, minimum on-time, split, refractory period), for a whole timeline
(:func:`detect`) and one score at a time (:class:`StreamingDetector`).
"""

from hardneg.stream._postprocess import DETECTION_COLUMNS, Detection, PostProcessing, StreamingDetector, detect, smooth

__all__ = ["DETECTION_COLUMNS", "Detection", "PostProcessing", "StreamingDetector", "detect", "smooth"]
