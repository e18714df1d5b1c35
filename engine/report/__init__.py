"""Incident PDF reports: one incident of a run, as a document an analyst hands to someone else.

Two stages, like the rest of the pipeline: ``gather`` reads everything the report shows from the
case (paged, aggregated SQL; never the whole events table) into a plain ``ReportData``, and
``render`` lays it out with fpdf2 (its own drawing for the charts; no plotting library).

Log text is hostile: every string that came from a log (users, hosts, addresses, raw lines, the
summary, analyst notes) goes through ``engine.textsafe.visible`` so control characters show as
escapes, and nothing is interpreted as markup (fpdf2's ``markdown`` stays off). Text is Unicode
end to end with the fonts bundled in ``engine/fonts`` (DejaVu, Droid Sans Fallback for CJK, Noto
Emoji); a character no bundled font has is shown as a ``\\uXXXX`` escape rather than an empty box.

The package: ``data`` (``gather``: the case -> ``ReportData``), ``fonts`` (bundled fonts and
Unicode fallback), ``layout`` (page, colours, headings, paragraphs, tables), ``charts`` (timeline
and explanation bars) and ``sections`` (the document's sections, in order, in ``SECTIONS``);
here, the API that writes the files.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from engine.report.data import (
    MAX_HOST_ROWS,
    MAX_NAME_CHARS,
    MAX_SOURCE_ROWS,
    MAX_USER_ROWS,
    RAW_HEAD,
    RAW_MAX_CHARS,
    RAW_SAMPLE,
    RAW_TAIL,
    TIMELINE_BUCKETS,
    ReportData,
    ReportError,
    ReportInfo,
    gather,
    sample_positions,
)
from engine.report.fonts import FONT_DIR, FONTS, safe, wrap_mono
from engine.report.sections import CATEGORY_LABELS, NEXT_STEPS, SECTIONS, TECHNIQUES, render_document
from engine.rules import SEVERITIES, SEVERITY_RANK
from store.case import Case
from store.queries import latest_run_id

__all__ = [
    "CATEGORY_LABELS", "FONTS", "FONT_DIR", "MAX_HOST_ROWS", "MAX_NAME_CHARS", "MAX_SOURCE_ROWS", "MAX_USER_ROWS",
    "NEXT_STEPS", "RAW_HEAD", "RAW_MAX_CHARS", "RAW_SAMPLE", "RAW_TAIL", "SECTIONS", "TECHNIQUES",
    "TIMELINE_BUCKETS", "ReportData", "ReportError", "ReportInfo", "gather", "render", "report_filename",
    "safe", "sample_positions", "wrap_mono", "write_all_reports", "write_incident_report",
]


def render(data: ReportData, out_path: str | Path) -> int:
    """Write ``data`` as a PDF at ``out_path`` (atomically: a reader never sees half a file);
    returns the number of pages."""
    pdf = render_document(data)
    out = Path(out_path)
    # Beside the target (same file system, so the rename is atomic), with the umask's permissions.
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        pdf.output(str(tmp))
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return pdf.page_no()


def write_incident_report(case: Case, incident_id: str, out_path: str | Path, run_id: str | None = None
                          ) -> ReportInfo:
    """The PDF report of one incident (of the latest run by default) at ``out_path``."""
    start = time.perf_counter()
    out = Path(out_path)
    if not out.parent.is_dir():
        raise ReportError(f"cannot write {out}: folder {out.parent} does not exist")
    data = gather(case, incident_id, run_id)
    pages = render(data, out)
    return ReportInfo(incident_id, str(out), pages, time.perf_counter() - start)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def report_filename(incident_id: str) -> str:
    """``INC-0001.pdf``: the file name of an incident's report (anything odd in the id becomes ``_``)."""
    return f"{_SAFE_NAME.sub('_', incident_id)}.pdf"


def write_all_reports(case: Case, out_dir: str | Path, min_severity: str = "medium", run_id: str | None = None
                      ) -> list[ReportInfo]:
    """One PDF per incident of the run (the latest by default) at or above ``min_severity``, named
    ``<incident id>.pdf`` in ``out_dir`` (created if missing)."""
    if min_severity not in SEVERITY_RANK:
        raise ReportError(f"unknown severity {min_severity!r}: use one of {', '.join(SEVERITIES)}")
    run_id = run_id or latest_run_id(case)
    if run_id is None:
        raise ReportError(f"case {case.path} has not been analysed yet: run vedette analyze --db {case.path}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out} is a file, not a folder: --all writes one PDF per incident into a folder")
    out.mkdir(parents=True, exist_ok=True)
    ids = [r[0] for r in case.con.execute(
        "SELECT id, severity FROM incidents WHERE run_id = $run ORDER BY id", {"run": run_id}).fetchall()
        if SEVERITY_RANK.get(r[1], 0) >= SEVERITY_RANK[min_severity]]
    return [write_incident_report(case, i, out / report_filename(i), run_id) for i in ids]
