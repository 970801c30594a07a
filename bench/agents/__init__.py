"""Small client programs the benchmarks start as separate processes (claimers)."""
