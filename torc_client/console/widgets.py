"""The console's shared pieces: the lost-server banner, the confirmation dialog and the help screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from torc_client.console.actions import Proposal


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
    HelpScreen > VerticalScroll { width: 90%; max-width: 90; height: 90%; border: thick $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, under: Screen, everywhere: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = [(b.key_display or _key_name(b.key), b.description) for b in _bindings(under)]
        self.everywhere = everywhere

    def compose(self) -> ComposeResult:
        lines = [f"{key:<14} {what}" for key, what in self.rows]
        lines += ["", "everywhere:"] + [f"{key:<14} {what}" for key, what in self.everywhere]
        with VerticalScroll():
            yield Static("[b]Keys[/b]  (escape closes)")
            yield Static("\n".join(lines), markup=False, id="keys")

    def action_close(self) -> None:
        self.dismiss(None)


def _bindings(screen: Screen) -> list[Binding]:
    found = [b if isinstance(b, Binding) else Binding(*b) for b in getattr(screen, "BINDINGS", [])]
    return [b for b in found if b.description]


def _key_name(key: str) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "enter": "enter", "pagedown": "pgdn", "pageup": "pgup"}
    return ",".join(names.get(k, k) for k in key.split(","))
