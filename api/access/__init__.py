"""Who may do what: every API route declares an access rule, and one guard checks it before the handler runs.

    rules.py   what each route touches (its workflow in the path, the query, the body, or a record's)
    shape.py   the request read strictly first: plain-digit ids, no repeated parameters, exact JSON types
    guard.py   `authorize`, the guard of every route, and `prepare`, which refuses to start without a rule

The lookups (which workflow a record belongs to, who may use a workflow) are in
`api.storage.ownership`: the guard never queries the database itself.
"""

from api.access.guard import authorize, prepare

__all__ = ["authorize", "prepare"]
