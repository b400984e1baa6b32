"""HTTP plumbing shared by every fetcher: one retry policy, one connection pool."""
