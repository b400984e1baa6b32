"""`spotify-pipeline doctor`: what will this setup get? Probes at the edges, a pure report in the middle.

:mod:`.probes` asks each service once (a handful of Spotify calls through the crawler's own
capability probes); :mod:`.report` turns those answers into checks, sources and an exit code.
"""

from __future__ import annotations

import argparse
import json
import logging

from spotify_core.settings import Settings
from spotify_pipeline.doctor.probes import gather
from spotify_pipeline.doctor.report import build_report, render_text


def run(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger("crawler.spotify.capabilities").setLevel(logging.WARNING)  # the report says it
    report = build_report(settings, gather(settings))
    print(json.dumps(report, indent=2) if args.json else render_text(report))
    return report["exit_code"]
