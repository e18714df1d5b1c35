"""Reading the model's answer: JSON (whole, fenced or cut off) or prose into a ``Summary``, every
string sanitised; and the ``summary`` field pulled out of an answer as it streams in."""

from __future__ import annotations

import json
import re

from engine import config
from engine.summaries.facts import CONFIDENCES, Summary
from engine.textsafe import visible

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCED = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")


def clean_text(value: object, limit: int) -> str:
    """Model text made safe to store and show: whitespace flattened, control characters escaped
    (an ESC becomes the four characters ``\\x1b``), cut to ``limit``. Markup stays literal text:
    it is rendered with ``rich.text.Text``, never parsed."""
    s = " ".join(str(value).split())
    s = visible(s)
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def _usable(s: str) -> bool:
    return len(_WORD.findall(s)) >= 3


def _json_object(text: str) -> dict | None:
    candidates = [text]
    candidates += [m.group(1) for m in _FENCED.finditer(text)]
    if "{" in text and "}" in text:
        candidates.append(text[text.find("{"): text.rfind("}") + 1])
    for c in candidates:
        try:
            doc = json.loads(c.strip())
        except ValueError:
            continue
        if isinstance(doc, dict):
            return doc
    return None


def _from_json(doc: dict, source: str) -> Summary | None:
    keys = {str(k).strip().lower(): v for k, v in doc.items()}
    summary = keys.get("summary")
    if not isinstance(summary, str):
        return None
    summary = clean_text(summary, config.SUMMARY_MAX_CHARS)
    if not _usable(summary):
        return None

    def text_field(name: str) -> str | None:
        v = keys.get(name)
        if not isinstance(v, str):
            return None
        v = clean_text(v, config.SUMMARY_FIELD_MAX_CHARS)
        return v or None

    steps = keys.get("next_steps")
    if isinstance(steps, str):
        steps = [steps]
    kept: list[str] = []
    if isinstance(steps, list):
        for s in steps:
            if isinstance(s, (str, int, float)) and not isinstance(s, bool):
                s = clean_text(s, config.SUMMARY_FIELD_MAX_CHARS)
                if s:
                    kept.append(s)
    confidence = keys.get("confidence")
    confidence = confidence.strip().lower() if isinstance(confidence, str) else None
    return Summary(summary, tuple(kept[: config.SUMMARY_MAX_STEPS]), intent=text_field("intent"),
                   impact=text_field("impact"), confidence=confidence if confidence in CONFIDENCES else None,
                   source=source)


def parse_answer(text: str | None, source: str) -> Summary | None:
    """The model's answer as a ``Summary``, or None when it is empty or unusable.

    A JSON object (bare, in a ```json fence, or amid prose) needs a ``summary``; the other keys
    are optional and kept only when well-typed (``confidence`` only as low/medium/high). JSON cut
    off mid-answer keeps what its summary got to. Plain prose is kept as the summary.
    """
    if not text:
        return None
    t = _THINK.sub("", text).strip()
    if not t:
        return None
    doc = _json_object(t)
    if doc is not None:
        return _from_json(doc, source)
    if t[0] in "{[`":
        partial = clean_text(_SummaryField().feed(t), config.SUMMARY_MAX_CHARS)
        return Summary(partial, source=source) if _usable(partial) else None
    prose = clean_text(t, config.SUMMARY_MAX_CHARS)
    return Summary(prose, source=source) if _usable(prose) else None


class _SummaryField:
    """Pulls the text of the ``summary`` string out of a JSON answer as it streams in, or passes
    a prose answer through; ``feed`` returns what became readable with the new piece."""

    _KEY = re.compile(r'"summary"\s*:\s*"', re.I)
    _ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "", "f": "", "/": "/", "\\": "\\", '"': '"'}

    def __init__(self) -> None:
        self.buf = ""
        self.mode: str | None = None
        self.start = 0
        self.pos: int | None = None
        self.done = False

    def feed(self, piece: str) -> str:
        self.buf += piece
        if self.mode is None:
            rest = self.buf.lstrip()
            if len(rest) < 7 and "<think>".startswith(rest.lower()):
                return ""  # maybe the start of a reasoning model's <think> block: wait and see
            if rest.lower().startswith("<think>"):
                end = rest.lower().find("</think>")
                if end < 0:
                    return ""
                rest = rest[end + len("</think>"):].lstrip()
            if not rest:
                return ""
            self.start = len(self.buf) - len(rest)
            self.mode = "json" if rest[0] in "{[`" else "prose"
        if self.mode == "prose":
            out, self.start = self.buf[self.start:], len(self.buf)
            return out
        if self.done:
            return ""
        if self.pos is None:
            m = self._KEY.search(self.buf, self.start)
            if not m:
                return ""
            self.pos = m.end()
        out, i, buf = [], self.pos, self.buf
        while i < len(buf):
            c = buf[i]
            if c == '"':
                self.done = True
                break
            if c != "\\":
                out.append(c)
                i += 1
                continue
            if i + 1 >= len(buf):
                break
            e = buf[i + 1]
            if e == "u":
                if i + 6 > len(buf):
                    break
                try:
                    out.append(chr(int(buf[i + 2: i + 6], 16)))
                except ValueError:
                    pass
                i += 6
            else:
                out.append(self._ESC.get(e, e))
                i += 2
        self.pos = i
        return "".join(out)


def _display(piece: str) -> str:
    """A streamed piece made safe to show at once (the stored text is cleaned as a whole)."""
    return visible(piece.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " "))
