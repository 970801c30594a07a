"""How every face reads a workflow: snapshots, one poller, the job table's paging, and the reads behind them.

The notebook dashboard (`torc_client.notebook`) and the terminal console (`torc_client.console`)
are views over this layer; neither talks to the API its own way.

- `snapshot`: immutable records of what a face shows (overview, run clock, a page of jobs, a job);
- `paging`: which server pages make up one page of the job table, planned from the counts alone;
- `fetch`: the only module here that does I/O, reading the least each view needs;
- `poller`: one background thread that refreshes a face until the workflow ends;
- `layout`: the dependency graph laid out by level, parameterised groups collapsed;
- `launch`: starting a local runner (`torc run`) from a face.
"""
