"""Readers that turn files into Recordings, Events, video frames and images, and the window arithmetic they share.

Sensor logs (CSV/Parquet), WFDB records and audio files become Recordings;
:func:`read_video_batches` decodes video and :func:`read_image` reads
images; :func:`format_of` says which reader a file goes to, and
:func:`samples_per_window` and :func:`plan_windows` how many samples a window
holds and where windows lie.
"""

from hardneg.io._audio import channel_indices, import_soundfile, read_audio_recordings
from hardneg.io._events import EVENT_COLUMNS, read_events_csv, select_events
from hardneg.io._formats import FORMATS, format_of, register_format, suffixes_of
from hardneg.io._groups import read_groups_csv
from hardneg.io._images import JPEG_SUFFIXES, image_files, load_rgb, read_image
from hardneg.io._recording import SAMPLE_TOLERANCE, Recording, channel_layouts, check_channel_names
from hardneg.io._sensor import TIME_UNITS, read_sensor_logs
from hardneg.io._tables import read_table
from hardneg.io._video import read_frames, read_video_batches
from hardneg.io._wfdb import read_wfdb_records
from hardneg.io._windows import WindowPlan, WindowSpan, plan_windows, samples_per_window

__all__ = [
    "EVENT_COLUMNS",
    "FORMATS",
    "JPEG_SUFFIXES",
    "SAMPLE_TOLERANCE",
    "TIME_UNITS",
    "Recording",
    "WindowPlan",
    "WindowSpan",
    "channel_indices",
    "channel_layouts",
    "check_channel_names",
    "format_of",
    "image_files",
    "import_soundfile",
    "load_rgb",
    "plan_windows",
    "read_audio_recordings",
    "read_events_csv",
    "read_frames",
    "read_groups_csv",
    "read_image",
    "read_sensor_logs",
    "read_table",
    "read_video_batches",
    "read_wfdb_records",
    "register_format",
    "samples_per_window",
    "select_events",
    "suffixes_of",
]
