"""TEMPORARY stand-in for the review media module (being written elsewhere): only ``ReviewMedia(review).file(id, "image")``.

It returns the snapshot JPEG ``hardneg mine --snapshots`` wrote for a video or image candidate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hardneg.errors import InputError

__all__ = ["ReviewMedia"]


class ReviewMedia:
    def __init__(self, review):
        self.review = review

    def file(self, candidate_id: int, kind: str) -> Path:
        row = self.review.table.iloc[int(candidate_id)]
        snapshot = row.get("snapshot")
        if kind != "image" or snapshot is None or pd.isna(snapshot):
            raise InputError(f"{self.review.mined_dir}: candidate {row['key']} has no snapshot; mine with --snapshots")
        return Path(self.review.mined_dir) / str(snapshot).split(";")[0]
