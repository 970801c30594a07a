"""The console's shared pieces: the lost-server banner, the confirmation dialog, the help screen, and tables filled
with their columns sized."""

from __future__ import annotations

from collections.abc import Sequence
from weakref import WeakKeyDictionary

from rich.cells import cell_len
from rich.text import Text

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static

from torc_client.console.actions import Proposal

#: A read that takes longer than this shows a spinner over what it will fill.
SLOW_SECONDS = 0.3


def wait_for(screen: Screen, widget: Widget) -> None:
    """Show a spinner over `widget` if the read about to start takes longer than `SLOW_SECONDS`.

    The spinner is set from a timer, when the widget is surely mounted: Textual defers the
    loading state of a widget not mounted yet, which could otherwise cover it after `done_with`.
    """
    done_with(widget)
    _SPINNER_TIMERS[widget] = screen.set_timer(SLOW_SECONDS, lambda: setattr(widget, "loading", True))


def done_with(widget: Widget) -> None:
    """The read has delivered: no spinner (now or later)."""
    timer = _SPINNER_TIMERS.pop(widget, None)
    if timer is not None:
        timer.stop()
    widget.loading = False


_SPINNER_TIMERS: WeakKeyDictionary[Widget, Timer] = WeakKeyDictionary()


def fill(table: DataTable, labels: Sequence[str], rows: Sequence[tuple[Sequence[str | Text], str]]) -> None:
    """Replace `table`'s columns and rows (cells, key), each column as wide as its widest cell or label.

    The widths are set here rather than measured by the table, which measures new rows only
    once its message queue is idle: on a loaded host that came late, and a screen showed its
    columns at their headers' widths ("comp" for "completed") for a minute.
    """
    widths = [max([_width(label), *(_width(cells[i]) for cells, _ in rows)]) for i, label in enumerate(labels)]
    table.clear(columns=True)
    for label, width in zip(labels, widths):
        table.add_column(label, width=width)
    for cells, key in rows:
        table.add_row(*cells, key=key)


def _width(cell: str | Text) -> int:
    """Cells a table cell takes on its widest line (a string is read as markup, as the table reads it)."""
    text = Text.from_markup(cell) if isinstance(cell, str) else cell
    return max((cell_len(line) for line in text.plain.split("\n")), default=0)


class Banner(Static):
    """One line across the top while the server does not answer; hidden otherwise."""

    DEFAULT_CSS = """
    Banner { background: #D55E00; color: white; text-style: bold; padding: 0 1; display: none; }
    Banner.-shown { display: block; }
    """

    def say(self, message: str | None) -> None:
        self.update(message or "")
        self.set_class(bool(message), "-shown")


class ConfirmScreen(ModalScreen[bool]):
    """What an action will change; `y` does it, `n` or escape leaves everything as it is."""

    BINDINGS = [Binding("y", "answer(True)", "yes, do it"), Binding("n,escape", "answer(False)", "no")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                               border: thick $accent; background: $surface; padding: 0 1; }
    ConfirmScreen #proposal { height: auto; max-height: 18; }
    """

    def __init__(self, proposal: Proposal) -> None:
        super().__init__()
        self.proposal = proposal

    def compose(self) -> ComposeResult:
        keys = "y: yes, do it · n: no" if self.proposal.possible else "n or escape: close"
        with Vertical():
            yield Static(f"[b]{self.proposal.title}[/b]", id="title")
            with VerticalScroll(id="proposal"):
                yield Static("\n".join(self.proposal.lines), markup=False, id="lines")
            yield Static(keys, id="keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes and self.proposal.possible)


class HelpScreen(ModalScreen[None]):
    """Every key of the screen underneath, and the keys that work everywhere."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 96%; max-width: 100; height: 96%; border: thick $accent;
                                  background: $surface; padding: 0 1; }
    HelpScreen Horizontal { height: auto; }
    HelpScreen #keys { width: 2fr; }
    HelpScreen #everywhere { width: 1fr; }
    """

    def __init__(self, under: Screen, everywhere: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = [(b.key_display or _key_name(b.key), b.description) for b in _bindings(under)]
        self.everywhere = everywhere

    def compose(self) -> ComposeResult:
        here = [f"{key:<8} {what}" for key, what in self.rows]
        everywhere = ["everywhere:"] + [f"{key:<7} {what}" for key, what in self.everywhere]
        with VerticalScroll():
            yield Static("[b]Keys of this screen[/b]  (escape closes)")
            with Horizontal():
                yield Static("\n".join(here), markup=False, id="keys")
                yield Static("\n".join(everywhere), markup=False, id="everywhere")

    def action_close(self) -> None:
        self.dismiss(None)


def _bindings(screen: Screen) -> list[Binding]:
    found = [b if isinstance(b, Binding) else Binding(*b) for b in getattr(screen, "BINDINGS", [])]
    return [b for b in found if b.description]


def _key_name(key: str) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "enter": "enter", "pagedown": "pgdn", "pageup": "pgup"}
    return ",".join(names.get(k, k) for k in key.split(","))
