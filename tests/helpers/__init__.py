"""Test helpers: independent reference checks and synthetic inputs (not part of hardneg)."""
