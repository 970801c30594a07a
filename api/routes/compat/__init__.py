"""Torc's own calls, as its published clients make them (`torc-client`, `pytorc`, its examples).

Each answers as Torc's OpenAPI document says, on this server's machinery: claims through the same
queues, starts and completions through the same transitions, records from the same storage.
"""
