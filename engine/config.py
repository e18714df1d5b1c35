"""Every tunable of the engine, with its default and why.

Change values here (or pass overrides to the functions that take them); nothing else in the
engine hard-codes a threshold, window or size.
"""

from __future__ import annotations

# --- ingest ---------------------------------------------------------------------------------
# Bytes read from a file per transaction. Bigger chunks parse faster in DuckDB; each chunk is
# committed with the byte offset reached, so a killed ingest resumes at a chunk boundary.
INGEST_CHUNK_BYTES = 32 << 20
# A line longer than this (in characters) is rejected, keeping its first 4096: real log lines are
# short, and a multi-megabyte "line" is an attack on the tool or a binary blob.
MAX_LINE_CHARS = 1 << 20
# How much of a file's start identifies it across renames and rotation (logrotate, .gz).
FINGERPRINT_BYTES = 4096
# How much of a file's start format detection and header-driven formats look at.
HEAD_BYTES = 64 << 10
# Lines used to detect the format.
DETECT_LINES = 40
# A file whose first bytes hold more than this share of control/NUL bytes is binary, not a log.
BINARY_CONTROL_SHARE = 0.05
# Ingests expected to take longer than this many bytes show a progress bar on a terminal.
PROGRESS_MIN_BYTES = 8 << 20
