"""The Torc HTTP API: a stateless Litestar app over MongoDB."""
