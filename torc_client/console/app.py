"""`TorcConsole`: the Textual app behind `torc tui`, one poller feeding whichever screen is open.

Screens read snapshots through `torc_client.watching` and change the workflow through the
client; neither ever runs on the event loop. The one `Poller` calls the open screen's `poll`
(in its thread) every interval; a screen also polls once, in a worker, when it opens. While
the server does not answer, a banner says so and the poller keeps trying, backing off; the
first answer clears it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from torc_client.client import Client
from torc_client.console.widgets import Banner, HelpScreen
from torc_client.core import errors, settings
from torc_client.watching.poller import Poller

#: The keys that work on every screen, for the help screen.
EVERYWHERE = [("?", "this help"), ("esc", "back"), ("q", "quit"), ("ctrl+p", "command palette")]


class TorcConsole(App[None]):
    """The workflows the user may see, one workflow, its jobs, events, graph and user_data, and actions on them."""

    TITLE = "torc"
    BINDINGS = [Binding("question_mark", "help", "help"), Binding("q", "quit", "quit"),
                Binding("escape", "back", "back", show=False)]  # fmt: skip
    CSS = """
    Screen { layout: vertical; }
    .muted { color: $text-muted; }
    #message { height: auto; max-height: 3; color: $text-muted; }
    """

    def __init__(self, client: Client | None = None, workflow_id: int | None = None, *,
                 output_dir: str | Path = settings.DEFAULT_OUTPUT_DIR,
                 poll_interval: float = settings.DEFAULT_POLL_INTERVAL) -> None:  # fmt: skip
        super().__init__()
        self.client = client or Client()
        self._owns_client = client is None
        self.first_workflow = workflow_id
        self.output_dir = Path(output_dir).resolve()
        self.lost: str | None = None
        self.poller = Poller(self._tick, poll_interval, on_error=self._poll_failed, name="torc-console")

    def on_mount(self) -> None:
        from torc_client.console.workflow import WorkflowScreen
        from torc_client.console.workflows import WorkflowsScreen

        self.push_screen(WorkflowsScreen())
        if self.first_workflow is not None:
            self.push_screen(WorkflowScreen(self.first_workflow))
        self.poller.start()

    def on_unmount(self) -> None:
        self.poller.stop(timeout=5)
        if self._owns_client:
            self.client.close()

    # --- reading in the background -------------------------------------------------

    def _tick(self) -> bool:
        poll = getattr(self.screen_stack[-1] if self.screen_stack else None, "poll", None)
        if poll is not None:
            poll()
        self.deliver(self.set_lost, None)
        return True

    def _poll_failed(self, error: Exception) -> None:
        if isinstance(error, errors.ServerUnavailable):
            self.deliver(self.set_lost, describe(error))
        else:  # the server answered: it is not lost, but the screen could not be read (the poller backs off)
            self.deliver(self.set_lost, None)
            self.deliver(self.warn, describe(error))

    def deliver(self, function: Callable[..., Any], *args: Any) -> None:
        """Run `function` on the event loop from a thread (a no-op once the app is closing: the loop then either
        refuses the call or cancels it while it waits)."""
        try:
            self.call_from_thread(function, *args)
        except (RuntimeError, CancelledError):
            pass

    def read(self, work: Callable[[], Any], then: Callable[[Any], None] | None = None, *, group: str = "read",
             exclusive: bool = True) -> None:  # fmt: skip
        """Run `work` in a worker thread, then `then(result)` on the event loop; failures go to the banner."""

        def run() -> None:
            try:
                result = work()
            except errors.ServerUnavailable as error:
                self.deliver(self.set_lost, describe(error))
                return
            except Exception as error:  # noqa: BLE001 - shown to the user, the console goes on
                self.deliver(self.warn, describe(error))
                return
            self.deliver(self.set_lost, None)
            if then is not None:
                self.deliver(then, result)

        self.run_worker(run, thread=True, group=group, exclusive=exclusive)

    def warn(self, message: str) -> None:
        """A failed read or action, shown for a while in the corner."""
        self.notify(message, severity="error", timeout=8)

    def set_lost(self, message: str | None) -> None:
        """Show (or clear) the banner that says the server is not answering, on every open screen."""
        self.lost = f"Server lost: {message}. Reconnecting…" if message else None
        for screen in self.screen_stack:
            for banner in screen.query(Banner):
                banner.say(self.lost)

    # --- keys ----------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen, EVERYWHERE))

    def action_back(self) -> None:
        """Close what is open on top (the name box, a screen); the list of workflows stays."""
        handled = getattr(self.screen, "back", None)
        if handled is not None and handled():
            return
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def open(self, screen: Screen) -> None:
        self.push_screen(screen)


def describe(error: Exception) -> str:
    return error.message if isinstance(error, errors.TorcError) else f"{type(error).__name__}: {error}"
