"""What the review decided, written where training needs it: a manifest, YOLO or COCO backgrounds, a dataset.

The decisions are the review log's current state (:meth:`ReviewStore.current`:
the latest decision on each candidate that no undo took back), joined to the
mined folder's candidates by key. One writer per format
(:data:`EXPORT_FORMATS`); every one also lists the candidates marked
``positive`` (real events the labels missed) in ``label_errors.csv``.

Each export is written into a hidden folder beside ``out`` and renamed into
place when whole, so an interrupted export leaves no half folder; rows go in
the candidate order (best score first, then item, then start) and file names
come from the candidate keys, so the same decisions give the same bytes.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path

import pandas as pd

from hardneg._atomic import replace_dir
from hardneg._progress import ProgressReporter, resolve
from hardneg._schema import LABEL_ERRORS_FILE, REVIEW_DB_FILE, REVIEW_STATES, REVIEWED_COLUMNS, REVIEWED_FILE
from hardneg._validation import Interval, validate_value
from hardneg.dataset import check_output_dir
from hardneg.errors import InputError
from hardneg.mine import safe_name
from hardneg.review._candidates import ReviewSet
from hardneg.review._media import ReviewMedia
from hardneg.review._store import ReviewStore, check_states

__all__ = ["EXPORT_FORMATS", "UNCATEGORISED", "ExportResult", "export_review"]

#: the file and category name of decisions made without a category
UNCATEGORISED = "uncategorised"
#: video frames and images: what YOLO and COCO take
_FRAME_KINDS = ("video", "image")
_IMAGE_SUFFIXES = {".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"}
_SHARE = Interval(Real, 0, 1, closed="neither")


@dataclass
class ExportResult:
    """What :func:`export_review` wrote.

    Attributes
    ----------
    out : Path
    fmt : str
    files : list of str
        Every file written, relative to ``out``, sorted (a merged YOLO dataset's own files included).
    counts : dict
        ``state -> category -> candidates exported`` (``uncategorised`` for none).
    label_errors : int
        Candidates marked positive, listed in ``label_errors.csv``.
    warnings : list of str
        What needs a look (a background share that could not be met, decisions on vanished candidates).
    backgrounds : dict
        YOLO with ``into``: ``existing`` images, ``wanted``, ``available`` and ``used`` backgrounds, ``share``.
    """

    out: Path
    fmt: str
    files: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    label_errors: int = 0
    warnings: list[str] = field(default_factory=list)
    backgrounds: dict = field(default_factory=dict)


@dataclass
class _Job:
    """What a writer gets: the review, the rows to export (candidate order), a staging folder to fill."""

    review: ReviewSet
    rows: pd.DataFrame
    staging: Path
    out: Path
    into: Path | None
    background_share: float | None
    like: Path | None
    progress: ProgressReporter
    result: ExportResult


def export_review(
    mined_dir,
    out,
    fmt: str,
    *,
    states: Sequence[str] = ("negative",),
    categories: Sequence[str] | None = None,
    into=None,
    background_share: float | None = None,
    like=None,
    overwrite: bool = False,
    progress: ProgressReporter | None = None,
) -> ExportResult:
    """Write the reviewed candidates of ``mined_dir`` in format ``fmt`` to the folder ``out``.

    Parameters
    ----------
    mined_dir : path
        A ``hardneg mine`` folder that was reviewed (``review.sqlite`` in it).
    out : path
        The folder to write; refused when it exists and is not empty, unless ``overwrite``.
    fmt : str
        One of :data:`EXPORT_FORMATS`: ``manifest`` (``reviewed.parquet`` and a CSV per state and
        category), ``yolo`` (background images with empty label files, ``data.yaml``), ``coco``
        (background images in ``annotations.json``, no annotations) or ``dataset`` (the confirmed
        negatives as hard negatives of a dataset built like ``like``).
    states : sequence of str
        The decisions to export (:data:`hardneg._schema.REVIEW_STATES`).
    categories : sequence of str, optional
        Only these categories (``uncategorised`` for decisions without one).
    into : path, optional
        YOLO: an existing YOLO dataset (a folder with ``data.yaml``); ``out`` becomes a new dataset
        holding its files (hard-linked where possible) plus the backgrounds, in its train folder.
        COCO: a COCO file (or a folder holding ``annotations.json``) whose categories to copy.
    background_share : float in (0, 1), optional
        YOLO with ``into``: add backgrounds, highest scores first, until they are this share of the
        train folder's images (rounded to the nearest count); a warning when too few were confirmed.
    like : path, optional
        ``dataset``: the labelled dataset (``hardneg sample`` folder) whose recipe to build again,
        with the confirmed negatives as hard negatives.
    overwrite : bool
        Replace an existing ``out``.
    progress : ProgressReporter, optional

    Returns
    -------
    ExportResult

    Examples
    --------
    A mined folder of two logs, one window decided negative and one positive:

    >>> import tempfile
    >>> from hardneg.mine import write_candidates, write_items
    >>> from hardneg.review import ReviewStore
    >>> mined = tempfile.mkdtemp()
    >>> candidates = pd.DataFrame({"item": ["a", "b"], "group": ["g", "h"], "start_ms": [0.0, 500.0],
    ...                            "end_ms": [500.0, 1000.0], "score": [0.9, 0.6]})
    >>> items = pd.DataFrame({"item": ["a", "b"], "group": ["g", "h"], "n_windows": [4, 2], "max_score": [0.9, 0.6],
    ...                       "mean_score": [0.5, 0.4], "topk_mean": [0.7, 0.5], "argmax_ms": [0.0, 500.0],
    ...                       "path": ["/pool/a.csv", "/pool/b.csv"]})
    >>> _ = write_candidates(candidates, mined), write_items(items, mined)
    >>> with ReviewStore(f"{mined}/review.sqlite", reviewer="ana") as store:
    ...     _ = store.decide("a@0", "negative", category="door", request_id="1")
    ...     _ = store.decide("b@500", "positive", request_id="2")
    >>> result = export_review(mined, f"{mined}/export", "manifest")
    >>> result.files
    ['label_errors.csv', 'negative/door.csv', 'reviewed.parquet']
    >>> result.counts, result.label_errors
    ({'negative': {'door': 1}}, 1)
    """
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"fmt must be one of {', '.join(EXPORT_FORMATS)}; got {fmt!r}", parameter="fmt")
    states = check_states(states)
    categories = None if categories is None else tuple(str(name) for name in categories)
    if background_share is not None:
        validate_value("background_share", background_share, [_SHARE])
        if fmt != "yolo":
            raise InputError(f"background_share: format {fmt} takes none; it is the share of backgrounds in a "
                             "YOLO dataset they join (format yolo)", parameter="background_share")  # fmt: skip
        if into is None:
            raise InputError("into is missing: background_share is the share of backgrounds in the YOLO dataset "
                             "they join; give that dataset, or leave background_share out", parameter="into")  # fmt: skip
    if into is not None and fmt not in ("yolo", "coco"):
        raise InputError(f"into {into}: format {fmt} takes none; it names the YOLO dataset (yolo) or COCO file "
                         "(coco) to join", parameter="into")  # fmt: skip
    if fmt == "dataset":
        if like is None:
            raise InputError("like is missing: format dataset adds the confirmed negatives to a labelled dataset; "
                             "give that dataset (a `hardneg sample` folder), whose recipe is built again",
                             parameter="like")  # fmt: skip
        if states != ("negative",):
            raise InputError(f"states {','.join(states)}: format dataset adds confirmed negatives only; leave "
                             "states at negative", parameter="states")  # fmt: skip
    elif like is not None:
        raise InputError(f"like {like}: format {fmt} takes none; it names the dataset format dataset adds the "
                         "negatives to", parameter="like")  # fmt: skip
    if fmt in ("yolo", "coco") and "positive" in states:
        raise InputError(f"states {','.join(states)}: format {fmt} writes background images, and a positive "
                         f"candidate is an event, not a background (positives go to {LABEL_ERRORS_FILE}); leave "
                         "positive out", parameter="states")  # fmt: skip
    mined_dir = Path(mined_dir)
    out = Path(out)
    for name, other in (("the mined folder", mined_dir), ("into", into), ("like", like)):
        if other is not None and _inside(Path(other), out):
            raise InputError(f"out {out} would replace {name} {other}; write to another folder", parameter="out")
    if into is not None and _inside(out, Path(into)):
        raise InputError(f"out {out} is inside into {into}, which is never changed; write to another folder",
                         parameter="out")  # fmt: skip
    if into is not None:  # a wrong folder is said before any work (its writer reads it again)
        (_yolo_dataset if fmt == "yolo" else _coco_categories)(Path(into))
    check_output_dir(out, overwrite)
    review = ReviewSet.load(mined_dir)
    result = ExportResult(out=out, fmt=fmt)
    decided = _decided(review, result)
    rows = _chosen(decided, states, categories, mined_dir)
    if fmt in ("yolo", "coco"):
        other = rows[~rows["kind"].isin(_FRAME_KINDS)]
        if len(other):
            raise InputError(f"fmt {fmt} takes video and image candidates, and {other['item'].iloc[0]} is "
                             f"{other['kind'].iloc[0]}; use manifest or dataset instead", parameter="fmt")  # fmt: skip
    if fmt == "dataset":
        frames = rows[rows["kind"].isin(_FRAME_KINDS)]
        if len(frames):
            raise InputError(f"fmt dataset takes logs, records and audio, and {frames['item'].iloc[0]} is "
                             f"{frames['kind'].iloc[0]}; use yolo, coco or manifest instead", parameter="fmt")  # fmt: skip
    result.counts = _counts(rows)
    positives = decided[decided["state"] == "positive"]
    result.label_errors = len(positives)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.export-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _write_csv(_reviewed(positives), staging / LABEL_ERRORS_FILE)
        job = _Job(review, rows, staging, out, None if into is None else Path(into), background_share,
                   None if like is None else Path(like), resolve(progress), result)  # fmt: skip
        EXPORT_FORMATS[fmt](job)
        result.files = sorted(path.relative_to(staging).as_posix() for path in staging.rglob("*") if path.is_file())
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


# --------------------------------------------------------------------------------------------------- decisions


def _decided(review: ReviewSet, result: ExportResult) -> pd.DataFrame:
    """Every candidate with a current decision, in candidate order, with ``state, category, reviewer, decided_at``."""
    database = review.mined_dir / REVIEW_DB_FILE
    if not database.is_file():
        raise InputError(f"nothing to export: {database} does not exist (no decision was made yet); review the "
                         f"candidates with `hardneg review {review.mined_dir}`", parameter="mined_dir")  # fmt: skip
    with ReviewStore(database) as store:
        current = store.current()
    table = review.table.copy()
    decided = table.merge(current.drop(columns="seq").rename(columns={"candidate": "key"}), on="key", how="inner")
    gone = sorted(set(current["candidate"]) - set(table["key"]))
    if gone:
        result.warnings.append(f"{len(gone)} decisions name candidates that {review.mined_dir} no longer holds "
                               f"(first {gone[0]}; mined again?); they are left out")  # fmt: skip
    return decided.sort_values("id", kind="stable").reset_index(drop=True)


def _chosen(decided: pd.DataFrame, states, categories, mined_dir: Path) -> pd.DataFrame:
    keep = decided["state"].isin(states).to_numpy()
    if categories is not None:
        named = decided["category"].fillna(UNCATEGORISED)
        keep = keep & named.isin(categories).to_numpy()
    rows = decided[keep].reset_index(drop=True)
    if rows.empty:
        asked = f"states {','.join(states)}" + ("" if categories is None else f", categories {','.join(categories)}")
        raise InputError(f"nothing to export: no decision in {mined_dir / REVIEW_DB_FILE} matches {asked} "
                         f"({len(decided)} decided in all); review with `hardneg review {mined_dir}`",
                         parameter="states")  # fmt: skip
    return rows


def _counts(rows: pd.DataFrame) -> dict:
    counts: dict = {}
    for state in REVIEW_STATES:
        chosen = rows[rows["state"] == state]
        if len(chosen):
            named = chosen["category"].fillna(UNCATEGORISED).value_counts()
            counts[state] = {str(name): int(named[name]) for name in sorted(named.index)}
    return counts


def _reviewed(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` as the reviewed manifest has them (:data:`REVIEWED_COLUMNS`), typed the same whatever is empty."""
    table = rows.reindex(columns=list(REVIEWED_COLUMNS)).reset_index(drop=True)
    types = {"start_ms": "float64", "end_ms": "float64", "score": "float64"}
    table = table.astype({**{name: object for name in REVIEWED_COLUMNS if name not in types}, **types})
    return table


# --------------------------------------------------------------------------------------------------- formats


def _write_manifest(job: _Job) -> None:
    reviewed = _reviewed(job.rows)
    reviewed.to_parquet(job.staging / REVIEWED_FILE, index=False)
    named = reviewed.assign(_file=reviewed["category"].fillna(UNCATEGORISED))
    for (state, category), rows in named.groupby(["state", "_file"], sort=True):
        _write_csv(rows.drop(columns="_file"), job.staging / safe_name(str(state)) / f"{safe_name(str(category))}.csv")


def _write_yolo(job: _Job) -> None:
    import yaml

    rows = job.rows
    if job.into is None:
        images, labels = job.staging / "images", job.staging / "labels"
        data = {"train": "images", "val": "images", "nc": 0, "names": []}
    else:
        data, train_images, train_labels = _yolo_dataset(job.into)
        _mirror(job.into, job.staging, job.progress)
        images = job.staging / train_images.relative_to(job.into)
        labels = job.staging / train_labels.relative_to(job.into)
        existing = sum(1 for path in train_images.rglob("*") if path.suffix.lower() in _IMAGE_SUFFIXES)
        available = len(rows)
        wanted = available
        if job.background_share is not None:
            share = float(job.background_share)
            wanted = math.floor(share * existing / (1.0 - share) + 0.5)  # the count nearest to the share asked
            if wanted > available:
                job.result.warnings.append(
                    f"background_share {share:g} of {existing} images asks for {wanted} backgrounds, but only "
                    f"{available} were available; all {available} used (share {available / (existing + available):.3f})"
                )
        if wanted == 0:
            job.result.warnings.append(f"background_share {job.background_share:g} of {existing} images rounds to "
                                       "no background; none added")  # fmt: skip
        rows = rows.head(wanted)  # hardest first: the candidates are in score order
        used = len(rows)
        job.result.backgrounds = {
            "existing": existing, "wanted": wanted, "available": available, "used": used,
            "share": used / (existing + used) if existing + used else 0.0,
        }  # fmt: skip
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    media = ReviewMedia(job.review)
    for key, candidate_id in job.progress.track(zip(rows["key"], rows["id"], strict=True), total=len(rows),
                                                description="background images"):  # fmt: skip
        name = safe_name(str(key))
        target = images / f"{name}.jpg"
        if target.exists():
            raise InputError(f"into {job.into}: already holds an image named {target.name}; rename it there",
                             parameter="into")  # fmt: skip
        _link_or_copy(Path(media.file(int(candidate_id), "image")), target)
        (labels / f"{name}.txt").write_bytes(b"")  # an empty label file: a background, nothing to find
    (job.staging / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _write_coco(job: _Job) -> None:
    from PIL import Image

    categories = [] if job.into is None else _coco_categories(job.into)
    images_dir = job.staging / "images"
    images_dir.mkdir()
    media = ReviewMedia(job.review)
    images = []
    for number, (key, candidate_id) in enumerate(
        job.progress.track(zip(job.rows["key"], job.rows["id"], strict=True), total=len(job.rows),
                           description="background images"), start=1):  # fmt: skip
        target = images_dir / f"{safe_name(str(key))}.jpg"
        _link_or_copy(Path(media.file(int(candidate_id), "image")), target)
        with Image.open(target) as image:
            width, height = image.size
        images.append({"id": number, "file_name": target.name, "width": int(width), "height": int(height)})
    document = {"images": images, "annotations": [], "categories": categories}
    (job.staging / "annotations.json").write_text(json.dumps(document, indent=2) + "\n")


def _write_dataset(job: _Job) -> None:
    from hardneg.build import recipe_of

    manifest = job.staging / REVIEWED_FILE
    _reviewed(job.rows).to_parquet(manifest, index=False)
    recipe = recipe_of(job.like).changed(hard_negatives=str(manifest))
    built = job.staging.parent / f".{job.out.name}.dataset-{os.getpid()}"
    shutil.rmtree(built, ignore_errors=True)
    try:
        recipe.build(built, progress=job.progress)
        final = os.path.abspath(job.out / REVIEWED_FILE)
        meta_path = built / "meta.json"
        meta = json.loads(meta_path.read_text())
        # The dataset's recipe names the manifest where it will be, inside the dataset, not where it was built.
        meta["parameters"]["hard_negatives"] = final
        for entry in meta.get("inputs", []):
            if entry.get("path") == str(manifest):
                entry["path"] = final
        meta_path.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n")
        for path in sorted(job.staging.iterdir()):
            path.rename(built / path.name)
        job.staging.rmdir()
        built.rename(job.staging)
    finally:
        shutil.rmtree(built, ignore_errors=True)


#: format name -> writer; each fills the staging folder it is given (``label_errors.csv`` is written for all)
EXPORT_FORMATS: dict[str, Callable[[_Job], None]] = {
    "manifest": _write_manifest,
    "yolo": _write_yolo,
    "coco": _write_coco,
    "dataset": _write_dataset,
}


# --------------------------------------------------------------------------------------------------- helpers


def _yolo_dataset(into: Path) -> tuple[dict, Path, Path]:
    """``into``'s ``data.yaml`` and its train image and label folders; an :class:`InputError` if it is not one."""
    import yaml

    into = Path(into)
    config = into / "data.yaml"
    if not into.is_dir() or not config.is_file():
        raise InputError(f"into {into}: not a YOLO dataset (no data.yaml in it); give the folder holding "
                         "data.yaml, images/ and labels/", parameter="into")  # fmt: skip
    try:
        data = yaml.safe_load(config.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"into {config}: not readable as YAML ({' '.join(str(error).split())})",
                         parameter="into") from None  # fmt: skip
    if not isinstance(data, dict) or not isinstance(data.get("train"), str):
        raise InputError(f"into {config}: names no train image folder (train: images/train); backgrounds join "
                         "the train images", parameter="into")  # fmt: skip
    root = Path(data["path"]) if data.get("path") else into
    root = root if root.is_absolute() else into / root
    if os.path.realpath(root) != os.path.realpath(into):
        raise InputError(f"into {config}: path {data['path']} is another folder; give the folder the images are "
                         "in", parameter="into")  # fmt: skip
    images = into / data["train"]
    parts = list(Path(data["train"]).parts)
    if not images.is_dir() or "images" not in parts or not _inside(images, into):
        raise InputError(f"into {config}: train {data['train']} is not an images/ folder inside {into}",
                         parameter="into")  # fmt: skip
    last = len(parts) - 1 - parts[::-1].index("images")
    labels = into.joinpath(*parts[:last], "labels", *parts[last + 1 :])
    data = {name: value for name, value in data.items() if name != "path"}  # relative to the new data.yaml
    return data, images, labels


def _coco_categories(into: Path) -> list:
    path = into / "annotations.json" if into.is_dir() else into
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"into {path}: not a readable COCO file ({error})", parameter="into") from None
    if not isinstance(document, dict) or not isinstance(document.get("categories"), list):
        raise InputError(f"into {path}: has no categories list; give a COCO annotations file", parameter="into")
    return document["categories"]


def _mirror(source: Path, target: Path, progress: ProgressReporter) -> None:
    """Every file of ``source`` under ``target``, hard-linked where possible; ``data.yaml`` and caches left out."""
    files = sorted(path for path in source.rglob("*") if path.is_file())
    files = [path for path in files if path.suffix != ".cache" and path.relative_to(source).as_posix() != "data.yaml"]
    for path in progress.track(files, total=len(files), description="existing dataset"):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(path, destination)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy holds the same bytes
        shutil.copyfile(source, target)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table.to_csv(index=False, lineterminator="\n"))


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (links resolved)."""
    path, folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path == folder or folder in path.parents


