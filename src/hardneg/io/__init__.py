"""Readers that turn files into Recordings, Events, video frames and images, and the window arithmetic they share.

Sensor logs (CSV/Parquet), WFDB records and audio files become Recordings;
:mod:`hardneg.io.video` decodes video and :mod:`hardneg.io.images` reads
images; :mod:`hardneg.io.formats` says which reader a file goes to, and
:mod:`hardneg.io.windows` how many samples a window holds and where windows lie.
"""

from hardneg.io.audio import read_audio_recordings
from hardneg.io.events import EVENT_COLUMNS, read_events_csv
from hardneg.io.formats import FORMATS, format_of, register_format, suffixes_of
from hardneg.io.groups import read_groups_csv
from hardneg.io.recording import Recording
from hardneg.io.sensor import read_sensor_logs
from hardneg.io.wfdb import read_wfdb_records
from hardneg.io.windows import WindowPlan, WindowSpan, plan_windows, samples_per_window

__all__ = [
    "EVENT_COLUMNS",
    "FORMATS",
    "Recording",
    "WindowPlan",
    "WindowSpan",
    "format_of",
    "plan_windows",
    "read_audio_recordings",
    "read_events_csv",
    "read_groups_csv",
    "read_sensor_logs",
    "read_wfdb_records",
    "register_format",
    "samples_per_window",
    "suffixes_of",
]
