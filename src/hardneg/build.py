"""Read inputs, sample windows, write a dataset: ``hardneg sample`` as one Python call."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from hardneg._progress import ProgressReporter
from hardneg._validation import Interval, validate_value
from hardneg.dataset import Dataset, check_output_dir, file_fingerprint, fingerprint_in_background
from hardneg.errors import InputError
from hardneg.io import (
    Recording,
    check_channel_names,
    format_of,
    read_audio_recordings,
    read_events_csv,
    read_sensor_logs,
    read_wfdb_records,
    select_events,
)
from hardneg.sample import SamplingConfig, sample_windows, write_sampled


@dataclass
class InputOptions:
    """How to read the inputs; field names are the CLI options with underscores.

    ``channels`` picks channels by name in every file (a WFDB signal wherever it
    sits in each record, a log's columns, audio ``ch0``/``ch1``). Without it,
    files whose channel names differ are refused unless ``allow_mixed_channels``,
    which stacks them by position (with a warning in the dataset).
    """

    time_col: str = "t_ms"
    time_unit: str = "ms"
    recording_col: str | None = None
    channels: tuple[str, ...] | None = None
    group_col: str | None = None
    groups: str | Path | Mapping[str, str] | None = None
    events: str | Path | None = None
    event_col: str | None = None
    event_symbols: tuple[str, ...] | None = None
    event_labels: tuple[str, ...] | None = None
    negative_labels: tuple[str, ...] | None = None
    negative_symbols: tuple[str, ...] | None = None
    annotation_ext: str = "atr"
    resample_hz: float | None = None
    sort_time: bool = False
    skip_bad_files: bool = False
    allow_mixed_channels: bool = False

    def to_dict(self) -> dict:
        values = dict(self.__dict__)
        for key in ("channels", "event_symbols", "event_labels", "negative_labels", "negative_symbols"):
            if values[key] is not None:
                values[key] = list(values[key])
        if values["groups"] is not None and not isinstance(values["groups"], (str, Path)):
            values["groups"] = dict(values["groups"])
        elif values["groups"] is not None:
            values["groups"] = _absolute(values["groups"])
        if values["events"] is not None:
            values["events"] = _absolute(values["events"])
        return values


def read_inputs(
    paths: Sequence[str | Path],
    options: InputOptions,
    progress: ProgressReporter | None = None,
    skipped: list[dict] | None = None,
) -> tuple[list[Recording], pd.DataFrame]:
    """Read sensor logs, WFDB records or audio files (by suffix) and their events.

    With ``options.skip_bad_files``, a file that cannot be used (one lacking a
    requested channel included) is left out and ``{"path", "error"}`` appended
    to ``skipped``; otherwise it raises. Recordings whose channel names differ
    are refused unless ``options.allow_mixed_channels``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> tmp = tempfile.TemporaryDirectory()
    >>> log = pd.DataFrame({"t_ms": np.arange(0.0, 10000.0, 10.0), "ax": np.sin(np.arange(1000) / 7), "az": 9.8})
    >>> log.to_parquet(f"{tmp.name}/s01.parquet")
    >>> pd.DataFrame({"recording": ["s01", "s01"], "t_ms": [3000.0, 7000.0]}).to_csv(f"{tmp.name}/events.csv")
    >>> recordings, events = read_inputs([f"{tmp.name}/s01.parquet"], InputOptions(events=f"{tmp.name}/events.csv"))
    >>> [(r.id, r.channels, r.n_samples) for r in recordings], events.t_ms.tolist()
    ([('s01', ['ax', 'az'], 1000)], [3000.0, 7000.0])
    >>> tmp.cleanup()
    """
    paths = [Path(path) for path in paths]
    if not paths:
        raise InputError("no inputs given; pass log files (.csv, .parquet) or WFDB headers (.hea)")
    folders = [path for path in paths if path.is_dir()]
    if folders:
        raise InputError(
            f"{folders[0]}: is a folder; pass the files in it, e.g. {folders[0]}/*.parquet, {folders[0]}/*.csv or "
            f"{folders[0]}/*.hea"
        )
    wfdb_paths = [path for path in paths if format_of(path) == "wfdb"]
    table_paths = [path for path in paths if format_of(path) in ("csv", "parquet")]
    audio_paths = [path for path in paths if format_of(path) == "audio"]
    other = [path for path in paths if path not in wfdb_paths and path not in table_paths and path not in audio_paths]
    if other:
        if other[0].suffix.lower() in (".dat", ".atr", ".qrs", ".ecg", ".xws"):  # a WFDB record's other files
            raise InputError(
                f"{other[0]}: a WFDB record is given by its header; pass {other[0].with_suffix('.hea')} (the "
                "signal and annotation files beside it are found from it)"
            )
        raise InputError(
            f"{other[0]}: unknown input type {other[0].suffix!r}; use .csv, .parquet, .hea or audio (.wav, .flac)"
        )
    if sum(bool(kind) for kind in (wfdb_paths, table_paths, audio_paths)) > 1:
        raise InputError(
            "mix of input kinds (WFDB records, CSV/Parquet logs, audio files); build one dataset per kind of input"
        )
    if options.event_col and options.events:
        raise InputError("pass either --events or --event-col, not both")
    on_bad_file = None
    if options.skip_bad_files:
        skipped = skipped if skipped is not None else []

        def on_bad_file(path: Path, message: str) -> None:
            skipped.append({"path": str(path), "error": message})

    if audio_paths:
        if options.events is None:
            raise InputError("audio files need --events EVENTS.csv (recording = file stem, t_ms from the file start)")
        if options.event_col or options.event_symbols or options.recording_col or options.group_col:
            raise InputError(
                "event_col, --event-symbols, --recording-col and --group-col do not apply to audio; "
                "use --events and --groups",
                parameter="event_col",
            )
        recordings = read_audio_recordings(
            audio_paths, channels=options.channels, groups=options.groups, on_bad_file=on_bad_file, progress=progress
        )
        events = None
    elif wfdb_paths:
        if options.events is None and not options.event_symbols:
            raise InputError("WFDB records need --event-symbols (e.g. V) or --events to say what the events are")
        if options.negative_symbols and not options.event_symbols:
            raise InputError(
                "negative_symbols needs --event-symbols too: say which annotations are the events",
                parameter="negative_symbols",
            )
        symbols = None
        if options.event_symbols:
            symbols = tuple(dict.fromkeys([*options.event_symbols, *(options.negative_symbols or ())]))
        recordings, events = read_wfdb_records(
            wfdb_paths,
            event_symbols=symbols,
            annotation_extension=options.annotation_ext,
            channels=options.channels,
            groups=options.groups,
            on_bad_file=on_bad_file,
            progress=progress,
        )
    else:
        if options.event_symbols:
            raise InputError(
                "event_symbols applies to WFDB records; for logs use --events or --event-col", parameter="event_symbols"
            )
        if options.negative_symbols:
            raise InputError(
                "negative_symbols applies to WFDB records; for an events file use --negative-labels",
                parameter="negative_symbols",
            )
        if options.events is None and options.event_col is None:
            raise InputError("no events: pass --events EVENTS.csv (recording,t_ms) or --event-col MARKER")
        recordings, events = read_sensor_logs(
            table_paths,
            time_col=options.time_col,
            time_unit=options.time_unit,
            recording_col=options.recording_col,
            channels=options.channels,
            group_col=options.group_col,
            groups=options.groups,
            event_col=options.event_col,
            resample_hz=options.resample_hz,
            sort_time=options.sort_time,
            allow_mixed_channels=options.allow_mixed_channels,
            on_bad_file=on_bad_file,
            progress=progress,
        )
    check_channel_names(recordings, allow_mixed=options.allow_mixed_channels)
    if options.events is not None:
        events = read_events_csv(options.events, recordings)
    if (options.negative_symbols or options.event_labels or options.negative_labels) and events is not None:
        if options.negative_symbols and (options.event_labels or options.negative_labels):
            raise InputError(
                "negative_symbols (WFDB annotations) and event_labels/negative_labels (an events file) do not mix",
                parameter="negative_symbols",
            )
        if options.negative_symbols and options.events is None:
            events = select_events(
                events,
                positive_labels=options.event_symbols,
                negative_labels=options.negative_symbols,
                source="symbols",
            )
        else:
            events = select_events(
                events, positive_labels=options.event_labels, negative_labels=options.negative_labels
            )
    elif options.negative_symbols:
        raise InputError("negative_symbols applies to WFDB records", parameter="negative_symbols")
    return recordings, events


def build_dataset(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    inputs: InputOptions | None = None,
    config: SamplingConfig | None = None,
    seed: int = 0,
    overwrite: bool = False,
    hard_negatives: str | Path | None = None,
    hard_tier: float | None = None,
    hard_max: int | None = None,
    progress: ProgressReporter | None = None,
    like: str | Path | DatasetRecipe | None = None,
) -> Dataset:
    """Build a window dataset directory from logs or WFDB records.

    ``like`` only records, in ``meta.json``, the dataset whose recipe this
    build follows and what it changed (see :func:`recipe_of`).

    Examples
    --------
    Two 10-second logs at 100 Hz and three events, each positive window with two negatives:

    >>> import tempfile, numpy as np
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ("s01", "s02"):
    ...     log = pd.DataFrame({"t_ms": np.arange(0.0, 10000.0, 10.0), "ax": np.sin(np.arange(1000) / 7), "az": 9.8})
    ...     log.to_parquet(f"{tmp.name}/{name}.parquet")
    >>> events = pd.DataFrame({"recording": ["s01", "s01", "s02"], "t_ms": [3000.0, 7000.0, 5000.0]})
    >>> events.to_csv(f"{tmp.name}/events.csv", index=False)
    >>> ds = build_dataset([f"{tmp.name}/s01.parquet", f"{tmp.name}/s02.parquet"], f"{tmp.name}/shots",
    ...                    inputs=InputOptions(events=f"{tmp.name}/events.csv"),
    ...                    config=SamplingConfig(neg_mult=2), seed=0)
    >>> ds.windows.shape, ds.index.kind.value_counts().sort_index().to_dict()
    ((9, 2, 50), {'far': 3, 'near': 3, 'pos': 3})
    >>> tmp.cleanup()
    """
    inputs = inputs or InputOptions()
    config = (config or SamplingConfig()).validate()
    if hard_negatives is None:
        for name, value in (("hard_tier", hard_tier), ("hard_max", hard_max)):
            if value is not None:
                raise InputError(
                    f"{name} chooses among mined hard negatives, but no mined folder was given (hard_negatives); "
                    f"give one, or leave {name} out",
                    parameter=name,
                )
    check_output_dir(out, overwrite)
    input_files = _input_files(paths, inputs)
    fingerprints = fingerprint_in_background(input_files)
    skipped: list[dict] = []
    recordings, events = read_inputs(paths, inputs, progress=progress, skipped=skipped)
    if config.labelled_neg_max is not None and not (inputs.negative_labels or inputs.negative_symbols):
        raise InputError(
            "labelled_neg_max caps the labelled negatives, but none were asked for; pass --negative-labels "
            "(--negative-symbols for WFDB records) or leave it out",
            parameter="labelled_neg_max",
        )
    hard, hard_files = None, []
    if hard_negatives is not None:
        hard, hard_files = _read_hard_negatives(hard_negatives, hard_tier, hard_max, recordings, inputs, progress)
        check_channel_names([*recordings, *hard.recordings], allow_mixed=inputs.allow_mixed_channels)
    sampled = sample_windows(recordings, events, config, seed=seed, progress=progress, hard=hard)
    if hard is not None:  # the sampler says which recordings its windows come from, hard-only sources included
        by_id = {recording.id: recording for recording in [*hard.recordings, *recordings]}
        recordings = [by_id[recording_id] for recording_id in sampled.recordings]
    meta = {
        "created_by": "hardneg sample",
        "seed": seed,
        "parameters": {
            **config.to_dict(),
            "seed": seed,
            "hard_negatives": None if hard_negatives is None else _absolute(hard_negatives),
            "hard_tier": hard_tier,
            "hard_max": hard_max,
        },
        "input_options": inputs.to_dict(),
        # what `hardneg sample --like` rebuilds from, whatever folder it runs in
        "input_paths": [_absolute(path) for path in paths],
        "inputs": fingerprints.result() + [file_fingerprint(path) for path in hard_files],
        "skipped_files": skipped,
    }
    if isinstance(like, DatasetRecipe):
        meta["like"] = {"dataset": like.source, "changed": list(like.changes)}
    elif like is not None:
        meta["like"] = {"dataset": _absolute(like), "changed": []}
    return write_sampled(out, sampled, recordings, meta=meta, overwrite=overwrite, progress=progress)


def _read_hard_negatives(mined_dir, tier, max_windows, recordings, inputs: InputOptions, progress):
    """The mined windows to add, and the pool recordings they come from that are not already inputs."""
    from hardneg.mine import is_reviewed, mined_source, pool_path, read_mined
    from hardneg.sample import HardNegatives

    # Checked under this function's caller's names, which the command line shows as its flags.
    validate_value("hard_tier", tier, [None, Interval(Real, 0, 1, closed="both")])
    validate_value("hard_max", max_windows, [None, Interval(Integral, 0, None, closed="left")])
    windows, items = read_mined(mined_dir, tier=tier, max_windows=max_windows)
    if tier is not None and windows.empty:
        mined, _ = read_mined(mined_dir)
        if len(mined):  # a folder with no candidates at all is refused below, whatever the tier
            best = float(mined["score"].max())
            raise InputError(
                f"hard_tier {tier} is above every mined score (best {_at_most(best)}); lower it",
                parameter="hard_tier",
            )
    source = mined_source(mined_dir)
    if windows.empty and max_windows != 0 and is_reviewed(source):
        raise InputError(
            f"hard_negatives {source}: no candidate in this reviewed manifest was confirmed negative, so there is "
            "nothing to add; export the negatives (`hardneg export MINED --format manifest`), or leave out "
            "--hard-negatives",
            parameter="hard_negatives",
        )
    if windows.empty and max_windows != 0:  # a whole loop that would add nothing: say so rather than add 0
        raise InputError(
            f"hard_negatives {mined_dir}: the mined folder holds no candidate window (no window of its "
            f"{len(items)} pool items scored at least its --min-score), so there is nothing to add; mine again with "
            "a lower --min-score, or leave out --hard-negatives",
            parameter="hard_negatives",
        )
    known = {recording.id for recording in recordings}
    needed = items[items["item"].isin(set(windows["recording"]) - known)]
    sources: list[Recording] = []
    paths = [pool_path(mined_dir, path) for path in needed["path"]]
    if len(needed):
        # Pool items are read like the inputs, without events: they only give hard negatives.
        if all(format_of(path) == "wfdb" for path in paths):
            sources, _ = read_wfdb_records(paths, event_symbols=None, channels=inputs.channels, progress=progress)
        elif all(format_of(path) == "audio" for path in paths):
            sources = read_audio_recordings(paths, channels=inputs.channels, progress=progress)
        else:
            sources, _ = read_sensor_logs(
                paths, time_col=inputs.time_col, time_unit=inputs.time_unit, channels=inputs.channels,
                resample_hz=inputs.resample_hz, sort_time=inputs.sort_time,
                allow_mixed_channels=inputs.allow_mixed_channels, progress=progress,
            )  # fmt: skip
        group_of = dict(zip(needed["item"], needed["group"]))
        for recording in sources:
            recording.group = str(group_of.get(recording.id, recording.id))
    files = [source, *paths]
    return HardNegatives(windows, sources), files


def _at_most(score: float) -> str:
    """``score`` with 3 to 6 decimals, cut rather than rounded: a tier typed as shown never exceeds the score.

    Examples
    --------
    >>> _at_most(0.847), _at_most(0.8476), _at_most(0.84712345)
    ('0.847', '0.8476', '0.847123')
    """
    for decimals in range(3, 7):
        scale = 10**decimals
        text = f"{math.floor(score * scale) / scale:.{decimals}f}"
        if float(text) > score:  # the product rounded up past an integer
            text = f"{(math.floor(score * scale) - 1) / scale:.{decimals}f}"
        if float(text) == score:
            break
    return text


def _input_files(paths: Sequence[str | Path], inputs: InputOptions) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if format_of(path) == "wfdb":
            base = path.with_suffix("")
            files += [
                candidate
                for candidate in (
                    base.with_suffix(".hea"),
                    base.with_suffix(".dat"),
                    base.with_suffix(f".{inputs.annotation_ext}"),
                )
                if candidate.is_file()
            ]
        elif path.is_file():
            files.append(path)
    for extra in (inputs.events, inputs.groups):
        if isinstance(extra, (str, Path)) and Path(extra).is_file():
            files.append(Path(extra))
    return files


def _absolute(path: str | Path) -> str:
    """``path`` made absolute (not resolving links), so a ``meta.json`` names files that open from any folder."""
    return os.path.abspath(path)


#: the build arguments a recipe holds besides the input options and the sampling config
_RECIPE_ARGUMENTS = ("paths", "seed", "hard_negatives", "hard_tier", "hard_max")


@dataclass(frozen=True)
class DatasetRecipe:
    """Everything ``hardneg sample`` was given to build a dataset, read back from its ``meta.json``.

    :meth:`build` makes the same dataset again, or a variant of it with some
    arguments changed: "the same dataset plus hard negatives" compares like with
    like. Paths are absolute, so a recipe builds from any folder.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> tmp = tempfile.TemporaryDirectory()
    >>> log = pd.DataFrame({"t_ms": np.arange(0.0, 20000.0, 10.0), "ax": np.sin(np.arange(2000) / 7)})
    >>> log.to_parquet(f"{tmp.name}/s01.parquet")
    >>> pd.DataFrame({"recording": ["s01"] * 3, "t_ms": [4000.0, 9000.0, 15000.0]}).to_csv(f"{tmp.name}/ev.csv")
    >>> first = build_dataset([f"{tmp.name}/s01.parquet"], f"{tmp.name}/a", inputs=InputOptions(events=f"{tmp.name}/ev.csv"),
    ...                       config=SamplingConfig(neg_mult=2, window_ms=400), seed=3)
    >>> recipe = recipe_of(f"{tmp.name}/a")
    >>> recipe.config.window_ms, recipe.seed, recipe.changed(neg_mult=1).config.neg_mult
    (400.0, 3, 1)
    >>> again = recipe.build(f"{tmp.name}/b")
    >>> again.index.equals(first.index)
    True
    >>> tmp.cleanup()
    """

    source: str
    paths: tuple[str, ...]
    inputs: InputOptions = field(default_factory=InputOptions)
    config: SamplingConfig = field(default_factory=SamplingConfig)
    seed: int = 0
    hard_negatives: str | None = None
    hard_tier: float | None = None
    hard_max: int | None = None
    #: the arguments changed from the source dataset's, by name
    changes: tuple[str, ...] = ()

    def changed(self, **changes) -> DatasetRecipe:
        """This recipe with some arguments changed, each named like its ``hardneg sample`` option.

        Raises :class:`InputError` naming an argument that no part of the recipe has.
        """
        input_names = {item.name for item in fields(InputOptions)}
        config_names = {item.name for item in fields(SamplingConfig)}
        unknown = sorted(set(changes) - input_names - config_names - set(_RECIPE_ARGUMENTS))
        if unknown:
            raise InputError(f"{unknown[0]} is not an option of hardneg sample", parameter=unknown[0])
        input_changes = {name: value for name, value in changes.items() if name in input_names}
        config_changes = {name: value for name, value in changes.items() if name in config_names}
        top = {name: value for name, value in changes.items() if name in _RECIPE_ARGUMENTS}
        if "paths" in top:
            top["paths"] = tuple(str(path) for path in top["paths"])
        default_separation = self.config.neg_min_sep_ms == self.config.window_ms / 2.0
        if "window_ms" in config_changes and "neg_min_sep_ms" not in config_changes and default_separation:
            # a separation that was the default follows the new window, as it would on a fresh command
            config_changes["neg_min_sep_ms"] = None
        return replace(
            self,
            changes=tuple(sorted(set(self.changes) | set(changes))),
            inputs=replace(self.inputs, **input_changes),
            config=replace(self.config, **config_changes),
            **top,
        )

    def build(self, out: str | Path, *, overwrite: bool = False, progress: ProgressReporter | None = None) -> Dataset:
        """Build the dataset this recipe describes into ``out`` (which must not be the recipe's own dataset)."""
        if _absolute(out) == self.source:
            raise InputError(
                f"out {out} is the dataset the recipe comes from; write the new dataset to another folder",
                parameter="out",
            )
        return build_dataset(
            list(self.paths), out, inputs=self.inputs, config=self.config, seed=self.seed, overwrite=overwrite,
            hard_negatives=self.hard_negatives, hard_tier=self.hard_tier, hard_max=self.hard_max,
            progress=progress, like=self,
        )  # fmt: skip


def recipe_of(dataset: str | Path) -> DatasetRecipe:
    """The :class:`DatasetRecipe` of a dataset built by ``hardneg sample``, from its ``meta.json``.

    Raises :class:`InputError` when the folder holds no such ``meta.json``, or one written before datasets
    recorded their input paths.
    """
    folder = Path(dataset)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise InputError(
            f"like {folder}: no meta.json; give a dataset folder written by hardneg sample", parameter="like"
        )
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"like {folder}: meta.json is not readable as JSON ({error})", parameter="like") from None
    if meta.get("created_by") != "hardneg sample":
        made_by = meta.get("created_by", "something else")
        raise InputError(f"like {folder}: made by {made_by}, not hardneg sample; it has no recipe", parameter="like")
    if "input_paths" not in meta:
        raise InputError(
            f"like {folder}: built by an older hardneg that did not record its input paths; give the inputs and "
            "options again (or rebuild it once with this version)",
            parameter="like",
        )
    parameters = dict(meta["parameters"])
    options = dict(meta["input_options"])
    tuples = {item.name for item in fields(InputOptions) if "tuple" in str(item.type)}
    tuples |= {item.name for item in fields(SamplingConfig) if "tuple" in str(item.type)}
    for values in (parameters, options):
        for name in tuples & set(values):
            if values[name] is not None:
                values[name] = tuple(values[name])
    config = SamplingConfig(
        **{item.name: parameters[item.name] for item in fields(SamplingConfig) if item.name in parameters}
    )
    inputs = InputOptions(**{item.name: options[item.name] for item in fields(InputOptions) if item.name in options})
    return DatasetRecipe(
        source=_absolute(folder),
        paths=tuple(meta["input_paths"]),
        inputs=inputs,
        config=config,
        seed=int(parameters.get("seed", meta.get("seed", 0))),
        hard_negatives=parameters.get("hard_negatives"),
        hard_tier=parameters.get("hard_tier"),
        hard_max=parameters.get("hard_max"),
    )
