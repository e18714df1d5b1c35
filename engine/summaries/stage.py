"""The summaries stage of an analysis (``summarise``), the answer cache, and one stored incident's
summary for the TUI and the PDF (``summary_details``, ``SummaryStream``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone

from engine import config
from engine.incidents import Incident
from engine.llm import LLMClient, LLMConfigError, LLMError, LLMRejected, LLMSettings, LLMUnavailable
from engine.rules import SEVERITY_RANK
from engine.summaries.answer import _display, _from_json, _SummaryField, clean_text, parse_answer
from engine.summaries.excerpts import attacker_commands, representative_lines
from engine.summaries.facts import OFFLINE, Summary, _latest_run, cache_key, facts_of, stored_facts, with_lead
from engine.summaries.prompt import build_prompt
from engine.summaries.templates import offline
from engine.textsafe import visible


# --- the cache -------------------------------------------------------------------------------------


def _cache_get(con, key: str) -> Summary | None:
    rows = con.execute("SELECT model, summary FROM summary_cache WHERE cache_key = $k", {"k": key}).fetchall()
    if not rows:
        return None
    row = rows[0]
    try:
        doc = json.loads(row[1]) if isinstance(row[1], str) else row[1]
    except ValueError:
        return None
    # Cached answers pass the same validation as fresh ones: the case file is not trusted either.
    return _from_json(doc, row[0]) if isinstance(doc, dict) else None


def _cache_put(con, key: str, s: Summary) -> None:
    doc = {k: v for k, v in s.as_dict().items() if k not in ("text", "source")}
    con.execute("INSERT OR REPLACE INTO summary_cache VALUES ($k, $m, $s, $t)",
                {"k": key, "m": s.source, "s": json.dumps(doc, ensure_ascii=False),
                 "t": datetime.now(timezone.utc)})


# --- the stage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryStats:
    """What the summaries stage did. model: the model's name or None; by_model: fresh model
    summaries; cached: taken from the cache; offline: incidents left with the offline summary;
    errors: distinct reasons the model failed (one line each); note: why no model was asked."""

    model: str | None = None
    by_model: int = 0
    cached: int = 0
    offline: int = 0
    seconds: float = 0.0
    errors: tuple[str, ...] = ()
    note: str = ""


def _resolve(llm) -> tuple[LLMClient | None, bool, str]:
    """(client, whether we own it and must close it, why there is none)."""
    if llm is None or llm is False:
        return None, False, "the model was not asked"
    if isinstance(llm, str) and llm == "auto":
        from engine.llm import from_environment

        try:
            client = from_environment()
        except LLMConfigError as exc:
            return None, False, f"LLM configuration: {exc}"
        if client is None:
            return None, False, "no LLM configured (set VEDETTE_LLM_URL and VEDETTE_LLM_MODEL)"
        return client, True, ""
    if isinstance(llm, LLMSettings):
        return LLMClient(llm), True, ""
    return llm, False, ""


def summarise(con, incidents: list[Incident], *, llm=None, cancelled: Callable[[], bool] | None = None
              ) -> SummaryStats:
    """The summaries stage: sets ``summary`` and ``summary_source`` of every incident in place.

    ``llm``: an ``LLMClient`` or ``LLMSettings``, ``"auto"`` (the environment and config file),
    or None / False (offline only). Incidents at or above the model's ``min_severity`` are asked
    of the model, riskiest first, ``concurrency`` at a time, within ``budget_s`` seconds in all;
    a cached answer costs nothing; everything else, and every failure, keeps the offline summary.
    Runs on the caller's thread apart from the HTTP requests, so ``con`` is only used here.
    """
    t0 = time.monotonic()
    for inc in incidents:
        s = offline(facts_of(inc, con))
        inc.summary, inc.summary_source = s.text, OFFLINE
    client, owned, note = _resolve(llm)
    if client is None:
        return SummaryStats(offline=len(incidents), seconds=time.monotonic() - t0, note=note)
    try:
        settings = client.settings
        floor = SEVERITY_RANK.get(settings.min_severity, SEVERITY_RANK["medium"])
        deadline = t0 + settings.budget_s
        cached, todo = 0, []
        for inc in incidents:
            if SEVERITY_RANK.get(inc.severity, 0) < floor:
                continue
            facts = facts_of(inc, con)
            key = cache_key(facts, client.model)
            hit = _cache_get(con, key)
            if hit is not None:
                inc.summary, inc.summary_source = with_lead(hit, facts).text, hit.source
                cached += 1
                continue
            todo.append((inc, key, build_prompt(facts, representative_lines(con, facts.spans),
                                                commands=attacker_commands(con, facts.spans))))
        errors: list[str] = []
        stop = threading.Event()

        def ask(messages: list[dict]) -> Summary | str:
            if stop.is_set() or time.monotonic() >= deadline or (cancelled and cancelled()):
                return ""
            try:
                answer = parse_answer(client.complete(messages, deadline=deadline), client.model)
            except (LLMUnavailable, LLMRejected) as exc:
                # The server is gone, or refuses us (bad key, unknown model): asking again for the
                # next incident would only fail the same way, slowly.
                stop.set()
                return str(exc)
            except LLMError as exc:
                return str(exc)
            except Exception as exc:  # noqa: BLE001 - whatever the model or server does, the analysis goes on
                return f"unexpected error from the LLM client: {exc.__class__.__name__}: {visible(exc)[:200]}"
            return answer if answer is not None else "the model's answer was empty or unusable"

        by_model = 0
        results: list[Summary | str] = []
        if todo:
            pool = ThreadPoolExecutor(max_workers=min(settings.concurrency, len(todo)),
                                      thread_name_prefix="vedette-llm")
            futures = [pool.submit(ask, messages) for _, _, messages in todo]
            try:
                pending = set(futures)
                while pending:
                    _, pending = wait(pending, timeout=0.1)
                    if pending and cancelled and cancelled():
                        # Don't sit out requests in flight: the analysis is being abandoned.
                        stop.set()
                        if owned:
                            client.close()
                        break
            finally:
                pool.shutdown(wait=not stop.is_set(), cancel_futures=True)
            results = [f.result() if f.done() and not f.cancelled() else "" for f in futures]
            for (inc, key, _), result in zip(todo, results, strict=True):
                if isinstance(result, Summary):
                    inc.summary, inc.summary_source = with_lead(result, facts_of(inc)).text, result.source
                    _cache_put(con, key, result)
                    by_model += 1
                elif result and result not in errors:
                    errors.append(result)
            if any(r == "" for r in results) and not stop.is_set():
                errors.append(f"the time budget ({settings.budget_s:g} s) ran out; the rest are offline")
        return SummaryStats(model=client.model, by_model=by_model, cached=cached,
                            offline=len(incidents) - by_model - cached, seconds=time.monotonic() - t0,
                            errors=tuple(errors[:5]))
    finally:
        if owned:
            client.close()


# --- for the TUI and the PDF ---------------------------------------------------------------------


def _stored(con, incident_id: str, run_id: str | None) -> tuple[str, str | None, str | None] | None:
    run_id = run_id or _latest_run(con)
    row = con.execute("SELECT summary, summary_source FROM incidents WHERE run_id = $run AND id = $id",
                      {"run": run_id, "id": incident_id}).fetchall()
    return (run_id, row[0][0], row[0][1]) if row else None


def summary_details(case, incident, run_id: str | None = None) -> dict | None:
    """The structured summary of a stored incident (an id, or a dict with ``id``), for the TUI and PDF.

    ``{"summary": paragraph, "text": what incidents.summary holds, "intent", "impact",
    "next_steps": [...], "confidence": low|medium|high|None, "source": "offline" or the model}``;
    None when the incident does not exist. Every string is safe to show as plain text.
    """
    con = getattr(case, "con", case)
    incident_id = incident["id"] if isinstance(incident, dict) else str(incident)
    stored = _stored(con, incident_id, run_id)
    if stored is None:
        return None
    run_id, text, source = stored
    facts = stored_facts(con, incident_id, run_id)
    if facts is None:
        return None
    if source and source != OFFLINE:
        hit = _cache_get(con, cache_key(facts, source))
        if hit is not None:
            return with_lead(hit, facts).as_dict()
        # The cache was cleared: the stored paragraph is all there is of the model's answer.
        return {"summary": clean_text(text or "", config.SUMMARY_MAX_CHARS), "text": text or "", "intent": None,
                "impact": None, "next_steps": [], "confidence": None, "source": source}
    return offline(facts).as_dict()


class SummaryStream:
    """Streams one stored incident's summary from the model, for the TUI's detail pane.

    Iterate for text pieces of the summary paragraph as they arrive (each already safe to show);
    afterwards ``result`` holds the final, validated ``summary_details``-shaped dict (show it in
    place of the streamed text: it adds next steps, or is the offline summary if the model failed)
    and ``error`` says why the model failed, if it did. A good answer is cached and becomes the
    incident's stored summary. Without ``regenerate`` a cached answer is returned without asking.
    Create it on the thread that owns ``case``; iterate it in a worker thread (it uses its own
    DuckDB cursor). To cancel, stop iterating and call ``close()`` on the same thread.
    """

    def __init__(self, case, incident_id: str, *, llm="auto", run_id: str | None = None,
                 regenerate: bool = False) -> None:
        self._con = getattr(case, "con", case).cursor()
        self.incident_id = incident_id
        self.run_id = run_id
        self.regenerate = regenerate
        self._llm = llm
        self._gen: Iterator[str] | None = None
        self.result: dict | None = None
        self.error: str | None = None

    def __iter__(self) -> Iterator[str]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def close(self) -> None:
        if self._gen is not None:
            self._gen.close()
        try:
            self._con.close()
        except Exception:  # already closed
            pass

    def _run(self) -> Iterator[str]:
        con = self._con
        stored = _stored(con, self.incident_id, self.run_id)
        facts = stored_facts(con, self.incident_id, stored[0]) if stored else None
        if stored is None or facts is None:
            raise KeyError(f"no incident {self.incident_id}")
        run_id = stored[0]
        client, owned, note = _resolve(self._llm)
        try:
            if client is None:
                self.error = note
                s = offline(facts)
                yield s.summary
                self.result = s.as_dict()
                return
            key = cache_key(facts, client.model)
            hit = None if self.regenerate else _cache_get(con, key)
            if hit is not None:
                hit = with_lead(hit, facts)
                yield hit.summary
                self.result = hit.as_dict()
                self._store(run_id, hit)
                return
            messages = build_prompt(facts, representative_lines(con, facts.spans),
                                    commands=attacker_commands(con, facts.spans))
            field_ = _SummaryField()
            parts: list[str] = []
            answer: Summary | None = None
            try:
                for piece in client.stream(messages, deadline=time.monotonic() + client.settings.budget_s):
                    parts.append(piece)
                    readable = field_.feed(piece)
                    if readable:
                        yield _display(readable)
                answer = parse_answer("".join(parts), client.model)
                if answer is None:
                    self.error = "the model's answer was empty or unusable"
            except LLMError as exc:
                self.error = str(exc)
            if answer is None:
                self.result = summary_details(con, self.incident_id, run_id) or offline(facts).as_dict()
                return
            led = with_lead(answer, facts)  # the cache keeps the model's own words
            self.result = led.as_dict()
            try:
                _cache_put(con, key, answer)
            except Exception:  # a read-only case: show it, keep nothing
                return
            self._store(run_id, led)
        finally:
            if owned:
                client.close()

    def _store(self, run_id: str, s: Summary) -> None:
        try:
            self._con.execute(
                "UPDATE incidents SET summary = $t, summary_source = $src WHERE run_id = $run AND id = $id",
                {"t": s.text, "src": s.source, "run": run_id, "id": self.incident_id})
        except Exception:  # a read-only case: the cache (if writable) still has it
            pass


def stream_summary(case, incident_id: str, *, llm="auto", run_id: str | None = None) -> SummaryStream:
    """The incident's summary from the model as a stream (a cached answer comes back at once)."""
    return SummaryStream(case, incident_id, llm=llm, run_id=run_id)


def regenerate_summary(case, incident_id: str, *, llm="auto", run_id: str | None = None) -> SummaryStream:
    """Ask the model again, ignoring the cache; the new answer replaces the cached and stored one."""
    return SummaryStream(case, incident_id, llm=llm, run_id=run_id, regenerate=True)
