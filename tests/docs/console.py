"""The console blocks of a docs page: extracted, run in one bash session, and compared with what they show.

The convention (docs/testing.md describes it for writers):

- A ```` ```console ```` block holds commands, each on a line starting with `$ `, and under each
  command the output it prints (stdout and stderr together, as a terminal shows them). A command
  line ending with a backslash continues on the next line.
- In expected output, a line that is exactly `...` stands for any number of lines (none too), and
  `...` inside a line stands for any text on that line. The spaces after an in-line `...` pad a
  table cell to its width, so any text with at least one of them there matches (a cell showing
  `...` matches `1001` as well as `7`). Trailing spaces are ignored.
- A page's commands run in order in one bash session, so variables (`WORKFLOW_ID=...`), the
  working directory and `$?` carry from one command (and block) to the next.
- A command must exit 0, unless the next command shown is `echo $?`, whose output checks the code.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
PROMPT = "$ "
ANY_LINES = "..."
#: `...` inside a line, with the spaces that pad it to its cell's width.
ANY_TEXT = re.compile(r"\.\.\.( *)")
#: Printed after each command (with its exit code) to cut the session's output into the commands' outputs.
MARKER = "@@docs-command-ended@@"


@dataclass(frozen=True)
class Command:
    """One command as the page shows it, with the output shown under it."""

    text: str
    expected: str
    line: int  # where the command starts on the page (1-based), for failure messages


def fenced_blocks(markdown: str) -> list[tuple[str, str, int]]:
    """(language, body, line of the body) of every fenced block, indented ones (in admonitions, lists) too."""
    blocks = []
    for match in FENCE.finditer(markdown):
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].splitlines())
        blocks.append((match["lang"], body, markdown.count("\n", 0, match.start("body")) + 1))
    return blocks


def commands(markdown: str) -> list[Command]:
    """Every command of every console block, in page order."""
    found: list[Command] = []
    for lang, body, first_line in fenced_blocks(markdown):
        if lang != "console":
            continue
        text: list[str] | None = None
        output: list[str] = []
        start = 0
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith(PROMPT) or line == PROMPT.strip():
                if text is not None:
                    found.append(Command("\n".join(text), "\n".join(output), start))
                text, output, start = [line[len(PROMPT):]], [], first_line + i
                while text[-1].endswith("\\") and i + 1 < len(lines):
                    i += 1
                    text.append(lines[i])
            elif text is None:
                raise ValueError(f"line {first_line + i}: a console block must start with a `$ ` command")
            else:
                output.append(line)
            i += 1
        if text is not None:
            found.append(Command("\n".join(text), "\n".join(output), start))
    return found


def session_script(cmds: list[Command]) -> str:
    """One bash script running the commands in order, each followed by a marker line carrying its exit code."""
    parts = ["__docs_rc=0"]
    for cmd in cmds:
        # `(exit N)` restores the previous command's `$?`, so a shown `echo $?` sees it.
        parts.append(f"(exit $__docs_rc)\n{cmd.text}\n__docs_rc=$?\necho; echo {shlex.quote(MARKER)} $__docs_rc")
    return "\n".join(parts) + "\n"


def split_session(output: str, count: int) -> list[tuple[str, int]]:
    """The output and exit code of each of `count` commands, from the whole session's output."""
    results = []
    pattern = re.compile(rf"\n{re.escape(MARKER)} (\d+)\n")
    position = 0
    for match in pattern.finditer(output):
        results.append((output[position:match.start()], int(match[1])))
        position = match.end()
    if len(results) != count:
        raise AssertionError(f"the session ended after {len(results)} of {count} commands:\n{output[position:]}")
    return results


def expected_pattern(expected: str) -> re.Pattern[str]:
    """A regex for the expected output: `...` alone on a line is any lines, `...` in a line any text."""
    parts = []
    for line in expected.rstrip("\n").splitlines():
        line = line.rstrip()
        if line == ANY_LINES:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(_line_pattern(line) + r"\n")
    return re.compile("".join(parts))


def _line_pattern(line: str) -> str:
    """One expected line as a regex: each in-line `...` any text, its padding one space or more (up to as many)."""
    pattern, start = "", 0
    for placeholder in ANY_TEXT.finditer(line):
        padding = len(placeholder.group(1))
        pattern += re.escape(line[start : placeholder.start()]) + ".*" + (f" {{1,{padding}}}" if padding else "")
        start = placeholder.end()
    return pattern + re.escape(line[start:])


def matches(expected: str, actual: str) -> bool:
    """Whether `actual` (whole output) is what `expected` shows, placeholders and trailing spaces allowed."""
    normal = "".join(line.rstrip() + "\n" for line in actual.splitlines())
    if not expected.strip():
        return not normal.strip()
    return expected_pattern(expected).fullmatch(normal) is not None
