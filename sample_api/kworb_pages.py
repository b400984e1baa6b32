"""Render kworb.net-style ``artists.html`` and ``listeners.html`` for the sample API.

The markup copies what the real pages looked like in January 2025: one
``<table class="addpos sortable">``, no rank cell (kworb adds it with JavaScript), absolute links
on ``artists.html`` (``/spotify/artist/<id>_songs.html``), relative links on ``listeners.html``
(``artist/<id>_songs.html``), a few links without ``_songs``, and names with ``&`` and ``'``
left unescaped as the site does. Numbers are plausible and derived from the rank only (so
they move when an evolved catalog reorders the ranking), with thousands separators and, like the
real pages for new entries, an occasional empty cell.
"""

from __future__ import annotations

from collections.abc import Sequence

_HEAD = """<!DOCTYPE html>
<html>
<head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - kworb.net</title>
<link rel="stylesheet" type="text/css" href="/css/standard.css">
<script type="text/javascript" src="/js/jquery.js"></script>
<script type="text/javascript" src="/js/sorttable.js"></script>
</head>
<body>
<div class="container">
<div class="subcontainer">
<span class="pagetitle">{title}</span><br><br>
<span>Last updated: 2026/11/24</span><br><br>
"""

_TAIL = """</tbody>
</table>
</div>
</div>
</body>
</html>
"""


def _link(prefix: str, spotify_id: str, rank: int) -> str:
    # Real pages occasionally link the artist page without "_songs".
    suffix = "" if rank % 11 == 7 else "_songs"
    return f"{prefix}artist/{spotify_id}{suffix}.html"


def _name(name: str) -> str:
    # kworb leaves & and ' unescaped; only < and > would break the markup.
    return name.replace("<", "&lt;").replace(">", "&gt;")


def render_artists_page(rows: Sequence[tuple[str, str]]) -> str:
    """Most-streamed artists: Artist, Streams, Daily, As lead, Solo, As feature (all in millions)."""
    out = [_HEAD.format(title="Spotify Artists - Most Streamed")]
    out.append('<table class="addpos sortable">\n<thead><tr><th class="text">Artist</th><th>Streams</th>'
               "<th>Daily</th><th>As lead</th><th>Solo</th><th>As feature</th></tr></thead>\n<tbody>\n")
    for rank, (spotify_id, name) in enumerate(rows, start=1):
        streams = 120_000 * 0.985 ** rank + 900
        lead = streams * 0.82
        solo = lead * 0.7
        out.append(
            f'<tr><td class="text"><div><a href="{_link("/spotify/", spotify_id, rank)}">{_name(name)}</a>'
            f"</div></td><td>{streams:,.0f}</td><td>{'' if rank % 23 == 22 else f'{streams / 2400:,.3f}'}</td>"
            f"<td>{lead:,.0f}</td>"
            f"<td>{solo:,.0f}</td><td>{streams - lead:,.0f}</td></tr>\n"
        )
    out.append(_TAIL)
    return "".join(out)


def render_listeners_page(rows: Sequence[tuple[str, str]]) -> str:
    """Monthly listeners: Artist, Listeners, Daily Trend, Peak, PkListeners."""
    out = [_HEAD.format(title="Spotify Top Artists by Monthly Listeners")]
    out.append('<table class="addpos sortable">\n<thead><tr><th class="text">Artist</th><th>Listeners</th>'
               "<th>Daily Trend</th><th>Peak</th><th>PkListeners</th></tr></thead>\n<tbody>\n")
    for rank, (spotify_id, name) in enumerate(rows, start=1):
        listeners = int(110_000_000 * 0.99 ** rank) + 50_000
        trend = (rank * 7919) % 400_000 - 200_000
        out.append(
            f'<tr><td class="text"><div><a href="{_link("", spotify_id, rank)}">{_name(name)}</a></div></td>'
            f"<td>{listeners:,}</td><td>{'' if rank % 29 == 28 else f'{trend:+,}'}</td><td>{max(1, rank // 3)}</td>"
            f"<td>{int(listeners * 1.2):,}</td></tr>\n"
        )
    out.append(_TAIL)
    return "".join(out)
