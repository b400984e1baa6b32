"""HTTP plumbing shared by every fetcher: one retrying GET, one retry policy, one connection pool."""
