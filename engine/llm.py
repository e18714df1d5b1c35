"""A small LLM client over httpx: OpenAI-compatible ``/v1/chat/completions`` and Ollama ``/api/chat``.

Configured by the environment, then by ``$XDG_CONFIG_HOME/vedette/config.toml`` (``[llm]`` table);
the environment wins::

    VEDETTE_LLM_URL       base URL: http://127.0.0.1:11434 (Ollama), http://127.0.0.1:8080/v1 (llama.cpp,
                          vLLM, an Ollama /v1), https://api.example.com/v1 (hosted)
    VEDETTE_LLM_MODEL     the model name sent with each request; also what ``summary_source`` says
    VEDETTE_LLM_API_KEY   sent as ``Authorization: Bearer ...``
    VEDETTE_LLM_PROVIDER  openai | ollama; inferred from the URL when unset: a path under /api, or
                          port 11434 with no /v1 path, means Ollama's own API; anything else OpenAI

    [llm]                 # config.toml: the same four (url, model, api_key, provider) and the
    url = "..."           # tunables of LLMSettings below (timeout_s, retries, concurrency, budget_s,
    model = "..."         # min_severity, ...); enabled = false turns the model off.

Both protocols are spoken streaming (OpenAI: server-sent events; Ollama: one JSON object a line)
and not. Every request has a connect and read timeout, and a deadline (the caller's time budget)
that also bounds retries and the time spent reading; 429 (honouring Retry-After), 5xx and
connection errors are retried with exponential backoff and jitter; a semaphore bounds the
requests in flight. The answer is returned as text and is *untrusted*: callers validate it
(``engine.summaries``). Nothing here interprets it.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import httpx

from engine import config
from engine.textsafe import visible
from engine.userconfig import config_table

PROVIDERS = ("openai", "ollama")
_SEVERITIES = ("info", "low", "medium", "high", "critical")


class LLMError(Exception):
    """A request that gave no usable answer; the message is one line for the analyst."""


class LLMConfigError(LLMError):
    """The configuration (environment or config.toml) is wrong."""


class LLMUnavailable(LLMError):
    """The server could not be reached (after retries): later requests would fail the same way."""


class LLMRejected(LLMError):
    """The server refused the request (a 4xx other than 429: bad key, unknown model...)."""


class LLMTimeout(LLMError):
    """No answer within the timeout or the time budget."""


@dataclass(frozen=True)
class LLMSettings:
    """Where the model is and how to talk to it. Only ``url`` and ``model`` are required."""

    url: str
    model: str
    provider: str = ""                       # "" = infer from the URL
    api_key: str | None = field(default=None, repr=False)
    connect_timeout_s: float = config.LLM_CONNECT_TIMEOUT_S
    timeout_s: float = config.LLM_READ_TIMEOUT_S
    retries: int = config.LLM_RETRIES
    backoff_s: float = config.LLM_BACKOFF_S
    backoff_max_s: float = config.LLM_BACKOFF_MAX_S
    retry_after_max_s: float = config.LLM_RETRY_AFTER_MAX_S
    concurrency: int = config.LLM_CONCURRENCY
    budget_s: float = config.LLM_BUDGET_S
    min_severity: str = config.LLM_MIN_SEVERITY
    max_tokens: int = config.LLM_MAX_TOKENS
    temperature: float = config.LLM_TEMPERATURE
    max_answer_bytes: int = config.LLM_MAX_ANSWER_BYTES

    def __post_init__(self) -> None:
        if not self.url or not self.model:
            raise LLMConfigError("an LLM needs both a URL and a model name (VEDETTE_LLM_URL, VEDETTE_LLM_MODEL)")
        try:
            url = httpx.URL(self.url)
        except Exception:  # httpx raises several types for bad URLs
            raise LLMConfigError(f"LLM URL is not a URL: {visible(self.url)[:200]}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise LLMConfigError(f"LLM URL must be http(s)://host[:port][/path], not {visible(self.url)[:200]}")
        provider = (self.provider or infer_provider(self.url)).lower()
        if provider not in PROVIDERS:
            raise LLMConfigError(f"LLM provider must be one of {', '.join(PROVIDERS)}, not {visible(provider)[:40]}")
        object.__setattr__(self, "provider", provider)
        if self.min_severity not in _SEVERITIES:
            raise LLMConfigError(f"llm.min_severity must be one of {', '.join(_SEVERITIES)}")
        for name in ("connect_timeout_s", "timeout_s", "budget_s"):
            if getattr(self, name) <= 0:
                raise LLMConfigError(f"llm.{name} must be positive")
        if self.concurrency < 1 or self.retries < 0:
            raise LLMConfigError("llm.concurrency must be at least 1 and llm.retries at least 0")

    @property
    def endpoint(self) -> str:
        """The URL requests are POSTed to."""
        url = httpx.URL(self.url)
        path = url.path.rstrip("/")
        if self.provider == "ollama":
            if path.endswith("/api/chat"):
                pass
            elif path.endswith("/api"):
                path += "/chat"
            else:
                path += "/api/chat"
        else:
            if path.endswith("/chat/completions"):
                pass
            elif not path:
                path = "/v1/chat/completions"
            else:
                path += "/chat/completions"
        return str(url.copy_with(path=path, query=None, fragment=None))


def infer_provider(url: str) -> str:
    """``ollama`` for Ollama's own API (a path under /api, or port 11434 without /v1), else ``openai``."""
    try:
        u = httpx.URL(url)
    except Exception:
        return "openai"
    segments = u.path.strip("/").split("/")
    if "v1" in segments:
        return "openai"
    if "api" in segments or u.port == 11434:
        return "ollama"
    return "openai"


_ENV = {"url": "VEDETTE_LLM_URL", "model": "VEDETTE_LLM_MODEL", "api_key": "VEDETTE_LLM_API_KEY",
        "provider": "VEDETTE_LLM_PROVIDER"}


def load_settings(env: Mapping[str, str] | None = None, path: Path | None = None, **overrides) -> LLMSettings | None:
    """The configured model, or None when none is (no URL, or ``enabled = false``).

    The environment wins over the config file; ``overrides`` (keyword arguments named like the
    fields of ``LLMSettings``) win over both. Raises ``LLMConfigError`` for a broken file or value.
    """
    env = os.environ if env is None else env
    path, table = config_table("llm", LLMConfigError, env, path)
    known = {f.name: f for f in fields(LLMSettings)}
    values: dict = {}
    enabled = table.get("enabled", True)
    for key, value in table.items():
        if key == "enabled":
            continue
        if key not in known:
            raise LLMConfigError(f"{path}: unknown key llm.{visible(key)[:40]} (known: {', '.join(sorted(known))})")
        values[key] = value
    for key, var in _ENV.items():
        if env.get(var):
            values[key] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    if not values.get("url") or enabled is False:
        return None
    if not values.get("model"):
        raise LLMConfigError("VEDETTE_LLM_URL is set but no model is: set VEDETTE_LLM_MODEL (or llm.model)")
    for key, value in list(values.items()):
        want = known[key].type
        try:
            if want in ("float",):
                values[key] = float(value)
            elif want in ("int",):
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                values[key] = int(value)
            elif not isinstance(value, str):
                raise ValueError
        except (TypeError, ValueError):
            raise LLMConfigError(f"llm.{key} has a value of the wrong type: {visible(repr(value))[:60]}") from None
    return LLMSettings(**values)


# --- the client -------------------------------------------------------------------------------


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.unreachable = unreachable


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class LLMClient:
    """Talks to one configured model. Thread-safe; use as a context manager or ``close()``.

    ``complete(messages)`` returns the answer's text; ``stream(messages)`` yields it in pieces as
    they arrive. Both take ``deadline`` (a ``time.monotonic()`` value) past which they give up.
    """

    def __init__(self, settings: LLMSettings, *, transport: httpx.BaseTransport | None = None,
                 rng: random.Random | None = None) -> None:
        self.settings = settings
        headers = {"Accept": "application/json, text/event-stream, application/x-ndjson",
                   "User-Agent": "vedette"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._http = httpx.Client(headers=headers, transport=transport, follow_redirects=False)
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._closed = threading.Event()
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()

    @property
    def model(self) -> str:
        return self.settings.model

    def close(self) -> None:
        """Stops waits between retries at once and closes the connections."""
        self._closed.set()
        self._http.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- public ---------------------------------------------------------------------------

    def complete(self, messages: list[dict], *, deadline: float | None = None) -> str:
        """The whole answer to ``messages`` (a non-streaming request)."""
        return "".join(self._run(messages, False, deadline))

    def stream(self, messages: list[dict], *, deadline: float | None = None) -> Iterator[str]:
        """The answer in pieces as the server sends them (a streaming request).

        Failures before the first piece are retried like ``complete``; a failure after it raises
        ``LLMError`` (the caller has already shown part of the answer).
        """
        return self._run(messages, True, deadline)

    # --- internals ------------------------------------------------------------------------

    def _body(self, messages: list[dict], stream: bool) -> dict:
        s = self.settings
        if s.provider == "ollama":
            return {"model": s.model, "messages": messages, "stream": stream, "format": "json",
                    "options": {"temperature": s.temperature, "num_predict": s.max_tokens}}
        return {"model": s.model, "messages": messages, "stream": stream, "temperature": s.temperature,
                "max_tokens": s.max_tokens}

    def _timeout(self, remaining: float) -> httpx.Timeout:
        s = self.settings
        read = max(0.05, min(s.timeout_s, remaining))
        return httpx.Timeout(connect=max(0.05, min(s.connect_timeout_s, remaining)), read=read, write=read,
                             pool=max(0.05, min(s.connect_timeout_s, remaining)))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        s = self.settings
        if retry_after is not None:
            return retry_after
        cap = min(s.backoff_max_s, s.backoff_s * (2 ** (attempt - 1)))
        with self._rng_lock:
            # "Equal jitter": at least half the exponential step, so retries do back off, plus a
            # random part so parallel requests do not hammer the server in lockstep.
            return cap / 2 + self._rng.uniform(0, cap / 2)

    def _run(self, messages: list[dict], stream: bool, deadline: float | None) -> Iterator[str]:
        s = self.settings
        deadline = deadline if deadline is not None else time.monotonic() + s.budget_s
        body = self._body(messages, stream)
        attempt = 0
        while True:
            if self._closed.is_set():
                raise LLMError("the LLM client was closed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMTimeout("no answer within the time budget")
            yielded = False
            try:
                if not self._slots.acquire(timeout=remaining):
                    raise LLMTimeout("no free request slot within the time budget")
                try:
                    with self._http.stream("POST", s.endpoint, json=body, timeout=self._timeout(remaining)) as r:
                        self._check_status(r)
                        for piece in self._decode(r, stream, deadline):
                            yielded = True
                            yield piece
                    return
                finally:
                    self._slots.release()
            except _Retry as exc:
                reason, retry_after, unreachable = exc.reason, exc.retry_after, exc.unreachable
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                reason, retry_after, unreachable = f"cannot connect to {s.endpoint}: {_why(exc)}", None, True
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if yielded:
                    raise LLMError(f"the answer was cut off: {_why(exc)}") from None
                reason, retry_after, unreachable = f"connection to {s.endpoint} failed: {_why(exc)}", None, True
            except httpx.TimeoutException:
                # A model that did not answer within the timeout will not on a second try either;
                # the time is better spent on the next incident.
                raise LLMTimeout(f"no answer from {s.endpoint} within {min(s.timeout_s, remaining):.1f} s") from None
            except httpx.HTTPError as exc:
                raise LLMError(f"request to {s.endpoint} failed: {_why(exc)}") from None
            attempt += 1
            if attempt > s.retries:
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                raise (LLMUnavailable if unreachable else LLMError)(f"{reason} ({tries})")
            if retry_after is not None and retry_after > s.retry_after_max_s:
                raise LLMError(f"{reason}; Retry-After {retry_after:.0f} s is longer than we wait")
            delay = self._delay(attempt, retry_after)
            if time.monotonic() + delay >= deadline:
                raise LLMTimeout(f"{reason}; no time left in the budget to retry")
            if self._closed.wait(delay):
                raise LLMError("the LLM client was closed")

    def _check_status(self, r: httpx.Response) -> None:
        code = r.status_code
        if code < 400:
            return
        snippet = _snippet(r)
        if code == 429:
            raise _Retry(f"rate limited (HTTP 429){snippet}", _retry_after(r.headers.get("Retry-After")))
        if code >= 500:
            raise _Retry(f"server error (HTTP {code}){snippet}", _retry_after(r.headers.get("Retry-After")))
        raise LLMRejected(f"the server refused the request (HTTP {code}){snippet}")

    def _read_lines(self, r: httpx.Response, deadline: float) -> Iterator[str]:
        seen = 0
        for line in r.iter_lines():
            seen += len(line) + 1
            if seen > self.settings.max_answer_bytes:
                raise LLMError(f"the answer is larger than {self.settings.max_answer_bytes:,} bytes")
            if time.monotonic() > deadline:
                raise LLMTimeout("the answer did not finish within the time budget")
            yield line

    def _decode(self, r: httpx.Response, stream: bool, deadline: float) -> Iterator[str]:
        ctype = r.headers.get("content-type", "").split(";")[0].strip().lower()
        ollama = self.settings.provider == "ollama"
        if not stream or ctype == "application/json" and not ollama:
            # Non-streaming, or a server that ignored "stream": true and sent one JSON document.
            raw = "\n".join(self._read_lines(r, deadline))
            try:
                doc = json.loads(raw)
            except ValueError:
                if ollama and stream is False and "\n" in raw.strip():
                    yield from self._ndjson(raw.splitlines())
                    return
                raise LLMError(f"malformed response from the server (not JSON): {visible(raw[:80])}") from None
            yield _content(doc, ollama)
            return
        if ollama:
            yield from self._ndjson(self._read_lines(r, deadline))
        else:
            yield from self._sse(self._read_lines(r, deadline))

    @staticmethod
    def _ndjson(lines) -> Iterator[str]:
        for line in lines:
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                raise LLMError(f"malformed stream from the server: {visible(line[:80])}") from None
            piece = _content(doc, True)
            if piece:
                yield piece
            if isinstance(doc, dict) and doc.get("done"):
                return

    @staticmethod
    def _sse(lines) -> Iterator[str]:
        data: list[str] = []
        for line in lines:
            if line.startswith("data:"):
                data.append(line[6:] if line[5:6] == " " else line[5:])
                continue
            if line != "" or not data:
                continue  # comments (":"), "event:"/"id:" fields, blank keep-alives
            payload = "\n".join(data)
            data.clear()
            if payload.strip() == "[DONE]":
                return
            text = _sse_piece(payload)
            if text:
                yield text
        if data and "\n".join(data).strip() != "[DONE]":
            text = _sse_piece("\n".join(data))
            if text:
                yield text


def _sse_piece(payload: str) -> str:
    """The text in one OpenAI streaming event."""
    try:
        doc = json.loads(payload)
    except ValueError:
        raise LLMError(f"malformed stream from the server: {visible(payload[:80])}") from None
    if not isinstance(doc, dict):
        raise LLMError("malformed stream from the server (an event is not a JSON object)")
    if doc.get("error"):
        raise LLMError(f"the server reported an error: {_error_text(doc['error'])}")
    choices = doc.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta") or choices[0].get("message") or {}
    text = delta.get("content") if isinstance(delta, dict) else None
    if text is None:
        text = choices[0].get("text")
    return text if isinstance(text, str) else ""


def _content(doc: object, ollama: bool) -> str:
    """The answer's text in one (non-streamed) response document, or in one NDJSON line."""
    if not isinstance(doc, dict):
        raise LLMError("malformed response from the server (not a JSON object)")
    if doc.get("error"):
        raise LLMError(f"the server reported an error: {_error_text(doc['error'])}")
    try:
        if ollama:
            content = (doc.get("message") or {}).get("content")
            if content is None and "response" in doc:  # /api/generate-style servers
                content = doc["response"]
        else:
            choice = doc["choices"][0]
            content = (choice.get("message") or {}).get("content")
            if content is None:
                content = choice.get("text")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise LLMError("malformed response from the server (no answer in it)") from None
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if content is None:
        return ""
    if not isinstance(content, str):
        raise LLMError("malformed response from the server (the answer is not text)")
    return content


def _error_text(err: object) -> str:
    if isinstance(err, dict):
        err = err.get("message") or err.get("type") or json.dumps(err)[:200]
    return visible(str(err))[:200]


def _snippet(r: httpx.Response) -> str:
    try:
        r.read()
        text = r.text[:300]
    except (httpx.HTTPError, UnicodeDecodeError):
        return ""
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and doc.get("error"):
            text = _error_text(doc["error"])
    except ValueError:
        pass
    text = " ".join(visible(text).split())[:160]
    return f": {text}" if text else ""


def _why(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return visible(text.splitlines()[0] if text else "")[:200]


def from_environment(env: Mapping[str, str] | None = None, **overrides) -> LLMClient | None:
    """A client for the configured model, or None when none is configured."""
    settings = load_settings(env, **overrides)
    return LLMClient(settings) if settings else None


def with_settings(client: LLMClient, **changes) -> LLMClient:
    """A new client like ``client`` with some settings changed (tests, the TUI's options)."""
    return LLMClient(replace(client.settings, **changes))
