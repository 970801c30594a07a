"""Storage for Torc's own calls (`api.routes.compat`): the queries, records and runs they need beyond
the rest of storage, built on it."""
