"""`torc remote`: runners started, watched and stopped on SSH hosts with plain `ssh`, for sites without a scheduler.

- `hosts`: worker addresses (`[user@]host[:port]`) and worker files;
- `ssh`: the `ssh` command lines, and running them;
- `workers`: what each subcommand does on every host, in parallel, with one result per host.
"""
