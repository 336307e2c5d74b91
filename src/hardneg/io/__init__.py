"""Readers that turn files into Recordings and Events.

Sensor logs (CSV/Parquet), WFDB records and audio files become Recordings;
video and image pools are read by :mod:`hardneg.mine.pools`.
"""

from hardneg.io.audio import read_audio_recordings
from hardneg.io.events import EVENT_COLUMNS, read_events_csv
from hardneg.io.groups import read_groups_csv
from hardneg.io.recording import Recording
from hardneg.io.sensor import read_sensor_logs
from hardneg.io.wfdb import read_wfdb_records

__all__ = [
    "EVENT_COLUMNS",
    "Recording",
    "read_audio_recordings",
    "read_events_csv",
    "read_groups_csv",
    "read_sensor_logs",
    "read_wfdb_records",
]
