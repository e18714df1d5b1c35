"""A window onto the case's events: one page at a time from DuckDB, filterable, never loaded whole.

The pane shows a page (``PAGE_SIZE`` rows) of the events matching its filter in time order.
Moving past the last row loads the next page (keyset paging, see ``store.browse``), so scrolling
feels continuous while memory holds one page. The total count runs in its own worker and is
interrupted when the filter changes again.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from store.browse import BROWSE_COLUMNS, EventFilter, EventPage, PageKey
from tui.backend import BackendError, Cancelled
from tui.messages import EventDetailLoaded, EventsCounted, EventsFailed, EventsPageLoaded
from tui.widgets.cells import plain
from tui.widgets.grid import EventGrid, GridColumn

# Rows per page: several screenfuls; moving past the edge loads the next one.
PAGE_SIZE = 200
# Shown whatever the page holds; other columns appear only when the first page has values in them.
ALWAYS = ("ts", "message")
# The browser's columns (file and line are in the event's detail, Enter).
SHOWN_COLUMNS = tuple(c for c in BROWSE_COLUMNS if c not in ("line_no",))
COLUMN_LIMIT = {"message": 160, "path": 60, "source_file": 40, "user": 24, "src_ip": 30, "host": 24, "ts": 19}
RIGHT_ALIGNED = {"status", "line_no", "pid", "src_port", "dst_port", "bytes"}
FILTER_HELP = ("Filter: words match anywhere in the line; field=value, field!=value, field~part, "
               "field>=n (e.g. user=root src_ip~45.155 status>=500 failed). Enter applies, Escape cancels.")


class EventsPane(Vertical):
    """Events matching a filter, paged. ``base`` is a filter always applied (an incident)."""

    BINDINGS = [
        Binding("slash", "edit_filter", "Filter", id="events.filter",
                tooltip="Filter events by text and fields: user=root src_ip~45.155 status>=500 failed"),
        Binding("f", "filter_cell", "Filter on cell", id="events.filter_cell",
                tooltip="Keep only events whose field under the cursor has this value"),
        Binding("F", "clear_filter", "Clear filter", id="events.clear_filter", tooltip="Remove text and field filters"),
        Binding("right_square_bracket", "next_page", "Next page", id="events.next_page",
                tooltip="The next page of events (also: moving down past the last row)"),
        Binding("left_square_bracket", "prev_page", "Prev page", id="events.prev_page",
                tooltip="The previous page (also: moving up past the first row)"),
        Binding("left_curly_bracket", "first_page", "First page", show=False, id="events.first_page",
                tooltip="The earliest events"),
        Binding("right_curly_bracket", "last_page", "Last page", show=False, id="events.last_page",
                tooltip="The latest events"),
    ]

    @dataclass
    class OpenEvent(Message):
        """Enter on a row: the screen shows the whole event."""

        event: dict

    def __init__(self, base: EventFilter | None = None, *, page_size: int = PAGE_SIZE, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = base or EventFilter()
        self.flt = self.base
        self.page: EventPage | None = None
        self.page_size = page_size
        self.start: int | None = 0  # index of the page's first row in the whole result
        self.count: int | None = None
        self.columns: tuple[str, ...] = ()
        self._token = 0
        self._count_token = 0
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Static(Text("loading events…", style="dim"), classes="events-status")
        yield Input(placeholder="user=root src_ip~45.155 status>=500 failed", classes="events-filter -hidden",
                    tooltip=FILTER_HELP)
        yield EventGrid(classes="events-table")

    @property
    def table(self) -> EventGrid:
        return self.query_one(EventGrid)

    @property
    def filter_input(self) -> Input:
        return self.query_one(".events-filter", Input)

    def on_mount(self) -> None:
        self.reload()
        if self.base.incident_id is None:
            # New events (an ingest) show up in the browser; an incident's pane is reloaded by its screen.
            self.watch(self.app, "data_version", lambda _: self.reload(), init=False)

    # --- requests ---------------------------------------------------------------------------

    def reload(self, flt: EventFilter | None = None) -> None:
        """Show the first page of ``flt`` (default: the current filter)."""
        self._request("first", flt or self.flt)

    def _request(self, mode: str, flt: EventFilter, key: PageKey | None = None) -> None:
        self._token += 1
        self._loading = True
        self._update_status()
        self._fetch(self._token, mode, flt, key)

    @work(thread=True, exclusive=True, exit_on_error=False, group="events-page", description="events page")
    def _fetch(self, token: int, mode: str, flt: EventFilter, key: PageKey | None) -> None:
        backend = self.app.backend
        slot = f"events-page:{id(self)}"
        try:
            if mode == "next":
                page = backend.events_page(flt, after=key, limit=self.page_size, slot=slot)
            elif mode == "prev":
                page = backend.events_page(flt, before=key, limit=self.page_size, slot=slot)
            elif mode == "last":
                page = backend.events_page(flt, last=True, limit=self.page_size, slot=slot)
            else:
                page = backend.events_page(flt, limit=self.page_size, slot=slot)
        except Cancelled:
            return
        except BackendError as exc:
            self.post_message(EventsFailed(token, str(exc)))
            return
        self.post_message(EventsPageLoaded(token, page, mode, flt))

    @work(thread=True, exclusive=True, exit_on_error=False, group="events-count", description="count events")
    def _count(self, token: int, flt: EventFilter) -> None:
        try:
            n = self.app.backend.count_events(flt, slot=f"events-count:{id(self)}")
        except (Cancelled, BackendError):
            return
        self.post_message(EventsCounted(token, n))

    @work(thread=True, exclusive=True, exit_on_error=False, group="event-detail", description="event detail")
    def _detail(self, key: PageKey) -> None:
        self.post_message(EventDetailLoaded(self.app.backend.event_detail(key)))

    # --- results ----------------------------------------------------------------------------

    @on(EventsPageLoaded)
    def _page_loaded(self, msg: EventsPageLoaded) -> None:
        msg.stop()
        if msg.token != self._token:
            return
        self._loading = False
        page: EventPage = msg.page
        new_filter = msg.flt != self.flt or self.page is None
        if msg.mode in ("next", "prev") and not page.rows:
            self._update_status()
            self.app.bell()
            return
        old = self.page
        self.flt = msg.flt
        self.page = page
        if msg.mode == "first":
            self.start = 0
        elif msg.mode == "next" and self.start is not None and old is not None:
            self.start += len(old.rows)
        elif msg.mode == "prev" and self.start is not None:
            self.start = max(0, self.start - len(page.rows))
        elif msg.mode == "last":
            self.start = (self.count - len(page.rows)) if self.count is not None else None
        if page.at_start:
            self.start = 0
        if new_filter or not self.columns:
            self.columns = self._pick_columns(page)
            self.count = None
            self._count_token += 1
            self._count(self._count_token, self.flt)
        self._fill(page, cursor_at_end=msg.mode in ("prev", "last"))
        self._update_status()

    def _pick_columns(self, page: EventPage) -> tuple[str, ...]:
        present = {c for row in page.rows for c, v in row.items() if v is not None}
        return tuple(c for c in SHOWN_COLUMNS if c in ALWAYS or c in present)

    def _fill(self, page: EventPage, cursor_at_end: bool) -> None:
        columns = [GridColumn(c, "time (UTC)" if c == "ts" else c, COLUMN_LIMIT.get(c, 40), c in RIGHT_ALIGNED)
                   for c in self.columns]
        rows = [[self._text(c, row.get(c)) for c in self.columns] for row in page.rows]
        self.table.set_page(columns, rows, cursor_row=len(rows) - 1 if cursor_at_end else 0)

    @staticmethod
    def _text(column: str, value) -> str | None:
        """A cell as safe text (control characters escaped by ``plain``); None stays NULL."""
        if value is None:
            return None
        if column == "source_file":
            value = str(value).rsplit("/", 1)[-1]
        return plain(value, limit=COLUMN_LIMIT.get(column, 40))

    @on(EventsCounted)
    def _counted(self, msg: EventsCounted) -> None:
        msg.stop()
        if msg.token != self._count_token:
            return
        self.count = msg.count
        if self.start is None and self.page is not None and self.page.at_end:
            self.start = msg.count - len(self.page.rows)
        self._update_status()

    @on(EventsFailed)
    def _failed(self, msg: EventsFailed) -> None:
        msg.stop()
        if msg.token != self._token:
            return
        self._loading = False
        self._update_status()
        self.app.notify(msg.text, title="Filter", severity="error", markup=False)

    @on(EventDetailLoaded)
    def _detail_loaded(self, msg: EventDetailLoaded) -> None:
        msg.stop()
        if msg.event is not None:
            self.post_message(self.OpenEvent(msg.event))

    def _update_status(self) -> None:
        status = self.query_one(".events-status", Static)
        t = Text(no_wrap=True, overflow="ellipsis")
        shown = EventFilter(self.flt.text, self.flt.fields)
        t.append("Filter: ", style="bold")
        t.append(plain(shown.as_text()) if not shown.empty else "none", style="" if not shown.empty else "dim")
        t.append("   ")
        page = self.page
        if page is not None and page.rows:
            n = len(page.rows)
            if self.start is not None:
                t.append(f"rows {self.start + 1:,}–{self.start + n:,}")
            else:
                t.append(f"last {n:,} rows")
        if page is not None and not page.rows:
            t.append("no events match", style="yellow")
        else:
            t.append(" of ")
            t.append("…counting" if self.count is None else f"{self.count:,}",
                     style="dim" if self.count is None else "bold")
        if self._loading:
            t.append("   loading…", style="italic dim")
        t.append("   / filter · f on cell · F clear · [ ] pages", style="dim")
        status.update(t)

    # --- actions ----------------------------------------------------------------------------

    def action_next_page(self) -> None:
        if self.page is None or self.page.at_end:
            self.app.bell()
            return
        self._request("next", self.flt, self.page.last_key)

    def action_prev_page(self) -> None:
        if self.page is None or self.page.at_start:
            self.app.bell()
            return
        self._request("prev", self.flt, self.page.first_key)

    def action_first_page(self) -> None:
        self._request("first", self.flt)

    def action_last_page(self) -> None:
        self._request("last", self.flt)

    @on(EventGrid.EdgeReached)
    def _edge(self, msg: EventGrid.EdgeReached) -> None:
        msg.stop()
        if self._loading:
            return
        if msg.direction == "down":
            if self.page is not None and not self.page.at_end:
                self._request("next", self.flt, self.page.last_key)
        elif self.page is not None and not self.page.at_start:
            self._request("prev", self.flt, self.page.first_key)

    def _editing(self, on: bool) -> None:
        # The one-line filter box takes the status line's place, so the table keeps its size
        # (and is not redrawn) while the analyst types.
        self.query_one(".events-status").set_class(on, "-hidden")
        self.filter_input.set_class(not on, "-hidden")
        (self.filter_input if on else self.table).focus()

    def action_edit_filter(self) -> None:
        self.filter_input.value = EventFilter(self.flt.text, self.flt.fields).as_text()
        self._editing(True)

    @on(Input.Submitted, ".events-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._editing(False)
        flt = self.app.backend.parse_filter(event.value, incident_id=self.base.incident_id)
        self._request("first", flt)

    def on_key(self, event) -> None:
        if event.key == "escape" and self.filter_input.has_focus:
            event.stop()
            event.prevent_default()
            self._editing(False)

    def action_filter_cell(self) -> None:
        table = self.table
        if self.page is None or not self.page.rows or not self.columns:
            return
        row = self.page.rows[table.cursor_row]
        column = self.columns[min(table.cursor_column, len(self.columns) - 1)]
        value = row.get(column)
        if column == "message":
            self.app.notify("Messages are free text: use / to filter by words in them.", markup=False)
            return
        if column == "ts":
            # Jump: everything from this moment on.
            value_text = value.isoformat() if value is not None else ""
            flt = self.flt.with_field("ts", ">=", value_text) if value is not None else self.flt.with_field("ts", "=", "")
        else:
            flt = self.flt.with_field(column, "=", "" if value is None else str(value))
        self._request("first", flt)

    def action_clear_filter(self) -> None:
        self._request("first", self.base)

    @on(EventGrid.Selected)
    def _selected(self, event: EventGrid.Selected) -> None:
        event.stop()
        if self.page is None or not self.page.rows:
            return
        row = self.page.rows[event.row]
        self._detail(PageKey(row.get("ts"), row.get("source_file"), row.get("line_no")))
