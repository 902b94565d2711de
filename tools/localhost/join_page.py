"""The page behind the local meeting provider's join links, standing in for a Microsoft Teams meeting."""

from __future__ import annotations

import html

JOIN_ROUTE = "local/join/{meeting_id}"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development meeting {meeting_id}</title>
<style>
body {{ font-family: sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em; }}
.banner {{ border: 3px dashed #b00; padding: 1em; background: #fff4f4; }}
code {{ font-size: 1.2em; }}
</style>
</head>
<body>
<div class="banner">
<h1>Development stand-in for a Microsoft Teams meeting — no real meeting exists</h1>
<p>The local development host serves this page in place of a Teams join link.
No call starts here.</p>
</div>
<p>Meeting id: <code>{meeting_id}</code></p>
</body>
</html>
"""


def render_join_page(meeting_id: str) -> bytes:
    """Return the UTF-8 HTML page for `meeting_id`, which is HTML-escaped."""
    return _PAGE.format(meeting_id=html.escape(meeting_id)).encode("utf-8")
