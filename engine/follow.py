"""Follow: keep ingesting files as they grow, rotate and appear (watchfiles: inotify, else polling),
and re-analyse incrementally as events arrive; everything it does is reported through one callback.

Ingest goes through ``engine.ingest`` (fingerprint + byte offset), so each line is stored once
whatever the rotation: a renamed file is recognised by its first bytes and read on from where it
was, a copy-truncated file starts a new source from byte 0, a compressed rotation adds nothing.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine import config
from engine.ingest import ingest
from engine.logfiles import rotation_key, expand_paths
from engine.live import LiveAnalysis, LiveUpdate
from store.case import Case

EVENT_KINDS = ("started", "ingested", "notice", "analysis", "paused", "resumed", "error", "stopped")


@dataclass(frozen=True)
class FollowEvent:
    """What a follow reports. ``kind`` is one of ``EVENT_KINDS``:

    - ``ingested``: ``path`` gave ``events`` new events (``lines`` lines); ``lag_s`` is the time
      from the file's last write to their commit; ``rate`` events/s over the last few seconds;
    - ``notice``: something the analyst should know about ``path`` (``message``): truncated and
      read again from the start, deleted, unreadable, a new file picked up;
    - ``analysis``: an analysis finished (``update``: its run, mode and incident changes);
    - ``error``: an analysis failed (``message``); the follow goes on.
    """

    kind: str
    path: str | None = None
    message: str = ""
    lines: int = 0
    events: int = 0
    lag_s: float | None = None
    rate: float = 0.0
    update: LiveUpdate | None = None
    at: float = field(default_factory=time.time)


@dataclass
class _FileState:
    ino: tuple[int, int]
    size: int
    settling: bool = False  # read as still being written: a torn last line may wait


class Follower:
    """Follow ``paths`` (files, directories, globs) into ``case`` until ``stop()``.

    ``run()`` blocks: an initial ingest, then a watch loop on the calling thread, with analyses on
    a thread of their own (each on a connection of its own of the same database). ``on_event``
    is called from either thread.
    """

    def __init__(self, case: Case, paths: Sequence[str | os.PathLike], on_event: Callable[[FollowEvent], None], *,
                 format_name: str | None = None, tz: str | None = None, llm=None, geoip: str | None = None,
                 analyse: bool = True,
                 interval_s: float = config.FOLLOW_ANALYSIS_INTERVAL_S, force_polling: bool | None = None) -> None:
        self.paths = [os.fspath(p) for p in paths]
        self.on_event = on_event
        self.format_name = format_name
        self.tz = tz
        self.interval_s = interval_s
        self.force_polling = force_polling
        # Ingest and analysis each on a connection of their own: DuckDB keeps their transactions apart.
        self._ingest_case = Case(case.con.cursor(), case.path, False)
        self.live = LiveAnalysis(Case(case.con.cursor(), case.path, False), llm=llm, geoip=geoip) if analyse else None
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._wake = threading.Condition()
        self._new_events = False
        self._files: dict[str, _FileState] = {}
        self._extra: set[str] = set()  # rotated siblings that appeared while following
        self._pending: set[str] = set()  # changed while paused
        self._reported: dict[str, str] = {}  # path -> last problem said, so it is said once
        self._rate: deque[tuple[float, int]] = deque()
        self._exclude = {os.path.abspath(case.path), os.path.abspath(case.path) + ".wal"}
        self.analysing = False
        self._next_rescan = 0.0  # monotonic time of the next full look at the paths when idle

    # --- control (any thread) -------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def pause(self) -> None:
        if not self._paused.is_set():
            self._paused.set()
            self._emit(FollowEvent("paused"))

    def resume(self) -> None:
        if self._paused.is_set():
            self._paused.clear()
            self._emit(FollowEvent("resumed"))
            with self._wake:
                self._wake.notify_all()

    def refit(self) -> None:
        """Fit the models afresh at the next analysis, now."""
        if self.live:
            self.live.request_refit()
            with self._wake:
                self._new_events = True
                self._wake.notify_all()

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        import watchfiles

        worker = threading.Thread(target=self._analysis_loop, name="vedette-follow-analysis", daemon=True)
        worker.start()
        try:
            self._ingest(self._followed(), initial=True)
            self._emit(FollowEvent("started", message=", ".join(self.paths)))
            with self._wake:
                self._new_events = True
                self._wake.notify_all()
            roots, recursive = self._roots()
            while not self._stop.is_set():
                if not roots:  # nothing to watch yet (a folder not created): look again later
                    self._stop.wait(config.FOLLOW_TICK_MS / 1000)
                    roots, recursive = self._roots()
                    self._tick(set())
                    continue
                for changes in watchfiles.watch(
                    *roots, watch_filter=None, debounce=config.FOLLOW_DEBOUNCE_MS, step=config.FOLLOW_STEP_MS,
                    stop_event=self._stop, rust_timeout=config.FOLLOW_TICK_MS, yield_on_timeout=True,
                    recursive=recursive, raise_interrupt=True, force_polling=self.force_polling,
                    ignore_permission_denied=True,
                ):
                    if not self._tick(changes):
                        continue
                    new_roots = self._roots()
                    if new_roots != (roots, recursive):
                        roots, recursive = new_roots
                        break
        finally:
            self._stop.set()
            with self._wake:
                self._wake.notify_all()
            worker.join()
            self._emit(FollowEvent("stopped"))

    def _tick(self, changes: set) -> bool:
        """Act on ``changes`` (empty on an idle wake-up); False when there was nothing to look at."""
        changed = {os.path.abspath(p) for _, p in changes}
        deleted = {os.path.abspath(p) for c, p in changes if c.name == "deleted"}
        added = {os.path.abspath(p) for c, p in changes if c.name == "added"}
        if self._paused.is_set():
            self._pending |= changed
            return bool(changed)
        changed |= self._pending
        self._pending.clear()
        mono = time.monotonic()
        if (not changed and mono < self._next_rescan
                and not any(f.settling for f in self._files.values())):
            return False  # idle: nothing changed, nothing waits for its last line
        self._next_rescan = mono + config.FOLLOW_RESCAN_S
        followed = self._followed(added)
        for path in sorted(deleted):
            if path in self._files and not os.path.exists(path):
                del self._files[path]
                self._extra.discard(path)
                self._emit(FollowEvent("notice", path, "deleted; the follow goes on"))
        now = time.time()
        due = [p for p in followed if p in changed or p not in self._files
               or (self._files[p].settling and self._mtime(p) < now - config.FOLLOW_SETTLE_S)]
        if due:
            self._ingest(due)
        return True

    # --- which files ------------------------------------------------------------------------

    def _roots(self) -> tuple[list[str], bool]:
        """Folders to watch: a named file's folder (its rotations and re-creation happen there),
        a named folder itself, a glob's fixed leading folders."""
        roots: set[str] = set()
        recursive = False
        for raw in self.paths:
            if any(ch in raw for ch in "*?["):
                parts = Path(raw).parts
                fixed = [p for p in parts[: next(i for i, p in enumerate(parts) if any(c in p for c in "*?["))]]
                base = str(Path(*fixed)) if fixed else "."
                recursive = recursive or "**" in raw or len(parts) - len(fixed) > 1
            elif os.path.isdir(raw):
                base, recursive = raw, True
            else:
                base = os.path.dirname(raw) or "."
            if os.path.isdir(base):
                roots.add(os.path.abspath(base))
        return sorted(roots), recursive

    def _followed(self, added: set[str] = frozenset()) -> list[str]:
        """The files to read now: what the paths name (globs and folders expanded afresh), plus
        rotations of a named file that appeared while following (``auth.log.1``, ``auth.log.2.gz``)."""
        files, problems = expand_paths(self.paths, self._exclude)
        named = {str(c.path) for c in files}
        bases = {rotation_key(Path(p))[:2] for p in named}
        for p in added:
            if p not in named and rotation_key(Path(p))[:2] in bases and os.path.isfile(p):
                self._extra.add(p)
        for prob in problems:
            self._say_problem(prob.path, prob.reason)
        for p in named:
            self._reported.pop(p, None)
        self._extra = {p for p in self._extra if os.path.isfile(p)}
        return sorted(named | self._extra, key=lambda p: rotation_key(Path(p)))

    # --- ingest -----------------------------------------------------------------------------

    def _ingest(self, paths: list[str], initial: bool = False) -> None:
        now = time.time()
        for path in paths:
            if self._stop.is_set():
                return
            try:
                st = os.stat(path)
            except OSError as exc:
                self._say_problem(path, exc.strerror or str(exc))
                continue
            ino = (st.st_dev, st.st_ino)
            prev = self._files.get(path)
            if prev is not None and prev.ino == ino and st.st_size < prev.size:
                self._emit(FollowEvent("notice", path, f"truncated from {prev.size} to {st.st_size} bytes "
                                                       "(copytruncate?): reading it again from the start"))
            elif prev is None and not initial:
                self._emit(FollowEvent("notice", path, "new file: following it"))
            growing = st.st_mtime >= now - config.FOLLOW_SETTLE_S
            # Remembered whatever the outcome: a file that cannot be read is tried again when it changes.
            self._files[path] = _FileState(ino, st.st_size, growing)
            try:
                result = ingest(self._ingest_case, [path], format_name=self.format_name, tz=self.tz, growing=growing)
            except Exception as exc:  # a bad file must not end the follow
                self._say_problem(path, f"ingest failed: {exc}")
                continue
            done = time.time()
            for prob in result.problems:
                if prob.reason != "compressed file is still being written":
                    self._say_problem(prob.path, prob.reason)
            for rep in result.files:
                self._reported.pop(rep.path, None)
                if rep.lines == 0:
                    continue
                self._rate.append((done, rep.events))
                self._emit(FollowEvent("ingested", rep.path, rep.note or "", rep.lines, rep.events,
                                       lag_s=None if initial else max(0.0, done - st.st_mtime), rate=self.rate(done)))
                if rep.events:
                    with self._wake:
                        self._new_events = True
                        self._wake.notify_all()

    def rate(self, now: float | None = None) -> float:
        """Events per second stored over the last ``FOLLOW_RATE_WINDOW_S`` seconds."""
        now = now or time.time()
        while self._rate and self._rate[0][0] < now - config.FOLLOW_RATE_WINDOW_S:
            self._rate.popleft()
        return sum(n for _, n in self._rate) / config.FOLLOW_RATE_WINDOW_S

    @staticmethod
    def _mtime(path: str) -> float:
        try:
            return os.stat(path).st_mtime
        except OSError:
            return 0.0

    def _say_problem(self, path: str, reason: str) -> None:
        if self._reported.get(path) != reason:
            self._reported[path] = reason
            self._emit(FollowEvent("notice", path, reason))

    # --- analysis ---------------------------------------------------------------------------

    def _analysis_loop(self) -> None:
        if self.live is None:
            return
        last = 0.0
        while True:
            with self._wake:
                while not self._stop.is_set() and (not self._new_events or self._paused.is_set()):
                    self._wake.wait()
                if self._stop.is_set():
                    return
                wait = last + self.interval_s - time.monotonic()
                if wait > 0:  # debounce: at most one analysis per interval
                    self._wake.wait(wait)
                    continue
                self._new_events = False
            last = time.monotonic()
            self.analysing = True
            try:
                update = self.live.analyse()
            except Exception as exc:  # reported, and the next events try again
                self._emit(FollowEvent("error", message=f"analysis failed: {exc.__class__.__name__}: {exc}"))
                update = None
            finally:
                self.analysing = False
            if update is not None:
                self._emit(FollowEvent("analysis", update=update))

    def _emit(self, event: FollowEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a display problem must not stop the follow
            pass


def follow(case: Case, paths: Sequence[str | os.PathLike], on_event: Callable[[FollowEvent], None], *,
           stop: threading.Event | None = None, **options) -> Follower:
    """Follow until ``stop`` is set (or the returned follower's ``stop()``); blocks. See ``Follower``."""
    follower = Follower(case, paths, on_event, **options)
    if stop is not None:
        threading.Thread(target=lambda: (stop.wait(), follower.stop()), daemon=True).start()
    follower.run()
    return follower


def follow_case(db: str, paths: Sequence[str | os.PathLike], on_event: Callable[[FollowEvent], None], *,
                stop: threading.Event, **options) -> None:
    """``vedette follow``: open the case file ``db`` read-write and follow ``paths`` into it until
    ``stop`` is set; the case is closed consistent (every chunk and run commits whole)."""
    if not paths:
        from engine.casework import CaseInputError

        raise CaseInputError("vedette follow needs at least one PATH (a file, a folder or a glob)")
    with Case.open(db) as case:
        follow(case, paths, on_event, stop=stop, **options)
