"""The command line's handlers, one module per `spotify-pipeline` command.

A handler takes ``(args: argparse.Namespace, settings: Settings)``, calls the domain function that does
the work, prints what it returned and gives the exit code. ``spotify_pipeline/cli.py`` names each one
as ``"module:function"`` and imports it only when its command runs.
"""
