"""The console-block convention itself: parsing, placeholders, and the session's exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.docs.console import commands, matches, session_script, split_session

PAGE = """Some text.

```console
$ echo one \\
    two
one two
$ false
$ echo $?
1
```

```bash
not a console block
```

- In a list:

    ```console
    $ X=3
    $ echo "x is $X"
    x is 3
    ```
"""


def test_commands_are_read_with_their_continuations_and_outputs_in_page_order() -> None:
    found = commands(PAGE)
    assert [(c.text, c.expected) for c in found] == [
        ("echo one \\\n    two", "one two"), ("false", ""), ("echo $?", "1"), ("X=3", ""),
        ('echo "x is $X"', "x is 3")]  # fmt: skip
    assert found[0].line == 4


def test_a_session_keeps_variables_and_each_exit_code_for_the_next_echo(tmp_path: Path) -> None:
    found = commands(PAGE)
    out = subprocess.run(["bash", "-c", session_script(found)], cwd=tmp_path, capture_output=True, text=True).stdout
    results = split_session(out, len(found))
    assert [code for _, code in results] == [0, 1, 0, 0, 0]
    assert all(matches(cmd.expected, printed) for cmd, (printed, _) in zip(found, results, strict=True))


def test_placeholders_stand_for_text_in_a_line_and_for_whole_lines() -> None:
    assert matches("start\n...\nend in ... s", "start\na\nb\nend in 0.4 s\n")
    assert matches("start\n...\nend", "start\nend\n")
    assert matches("a   ", "a\n")


def test_a_placeholder_in_a_table_cell_matches_text_longer_or_shorter_than_itself() -> None:
    row = "│ 1  │ ...       │ pending │"
    assert matches(row, "│ 1  │ 1001      │ pending │\n")
    assert matches(row, "│ 1  │ 7         │ pending │\n")
    assert matches(row, "│ 1  │ 123456789 │ pending │\n")
    assert not matches(row, "│ 1  │ 1001      │ running │\n")


def test_output_that_differs_from_the_page_does_not_match() -> None:
    assert not matches("workflow 1: 2 completed", "workflow 1: 1 completed\n")
    assert not matches("a\nb", "a\nb\nc\n")
    assert not matches("", "something\n")
    assert not matches("x ... y", "x\ny\n")
    assert not matches("in ... s", "in 0.4s\n")
