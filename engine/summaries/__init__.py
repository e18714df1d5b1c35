"""Incident summaries: the offline summariser, the model's summaries, and the stage that chooses.

The **offline summariser** (``offline``) needs no model: a paragraph written from the incident's
facts (counts, entities, span, rate, rule hits, ATT&CK techniques) per category, with next steps,
the likely intent and impact, and how sure the engine is. It is used when no model is configured,
below the model's severity threshold, when the model fails, and as the fallback for an unusable
answer.

The **model** (``engine.llm``) gets the same facts, aggregated, truncated and fenced as untrusted
data between lines carrying a random per-request token, with an instruction that nothing inside
the fence is an instruction. It is asked for JSON (summary, intent, impact, next_steps,
confidence); ``parse_answer`` accepts a partial object, JSON in a ```json fence, or plain prose,
and sanitises whatever it keeps (control characters escaped, whitespace flattened, lengths
capped). The answer is text to show, never markup, and nothing it says is acted on: it cannot
change an incident's severity or category.

**The stage** (``summarise``) runs in ``engine.analyze`` between incidents and store: every
incident gets its offline summary, then those at or above the model's ``min_severity`` are asked
of the model, in parallel within a total time budget; whatever is left when the budget runs out,
or when the server is unreachable, keeps its offline summary. Answers are cached in
``summary_cache`` keyed by a hash of the incident's facts and the model, so re-analysing an
unchanged case asks nothing. ``incidents.summary`` holds the paragraph (with its next steps) and
``summary_source`` says ``offline`` or the model's name; ``summary_details`` gives the TUI and the
PDF the structured answer, and ``SummaryStream`` / ``regenerate_summary`` stream one (again).

The package: ``facts`` (what a summary is written from, its cache key, ``Summary``), ``templates``
(the offline summariser, a table of writers per category), ``prompt`` (the fact sheet and the
fenced prompt), ``excerpts`` (which raw lines the prompt shows), ``answer`` (reading the model's
answer) and ``stage`` (the stage, the cache, and ``summary_details`` / ``SummaryStream``).
"""

from engine.summaries.answer import _SummaryField, clean_text, parse_answer
from engine.summaries.excerpts import representative_lines
from engine.summaries.facts import (
    CONFIDENCES,
    OFFLINE,
    PEAK_FEATURES,
    PROMPT_VERSION,
    SUM_FEATURES,
    IncidentFacts,
    Span,
    Summary,
    _aggregate,
    cache_key,
    facts_of,
    stored_facts,
)
from engine.summaries.prompt import SYSTEM_PROMPT, USER_PROMPT, build_prompt, fact_sheet
from engine.summaries.stage import (
    SummaryStats,
    SummaryStream,
    regenerate_summary,
    stream_summary,
    summarise,
    summary_details,
)
from engine.summaries.templates import TEMPLATES, Template, offline, offline_summary

__all__ = [
    "CONFIDENCES", "OFFLINE", "PEAK_FEATURES", "PROMPT_VERSION", "SUM_FEATURES", "SYSTEM_PROMPT", "TEMPLATES",
    "USER_PROMPT", "IncidentFacts", "Span", "Summary", "SummaryStats", "SummaryStream", "Template", "_SummaryField",
    "_aggregate", "build_prompt", "cache_key", "clean_text", "fact_sheet", "facts_of", "offline", "offline_summary",
    "parse_answer", "regenerate_summary", "representative_lines", "stored_facts", "stream_summary", "summarise",
    "summary_details",
]
