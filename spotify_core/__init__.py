"""The bottom layer: typed settings, the error types a user sees, Spotify's vocabulary, the table registry.

Imports nothing of the project's other packages (the import contracts in pyproject.toml), so every
package above (crawler, lake, spark_jobs, analytics, spotify_pipeline) may depend on it.
"""
