"""The `torc` command line: click commands in `commands/`, rendering in `render`, live progress in `progress`.

`main.main()` is the console script; it parses the global options wherever they appear,
runs the command and turns expected errors into one message on stderr and an exit code.
"""
