"""Small HTML pages a citizen may see when opening a link from a mail: moved, cancelled, not ready.

Rendered with Jinja2 (autoescape) in the booking's language through the message catalogs.
"""

from __future__ import annotations

import functools
from pathlib import Path

from shared.i18n import N_, check_language, format_local_date, format_local_time, translations

TEMPLATES = Path(__file__).parent / "templates"

# Page kinds and their title and text msgids. The text takes {date} and {time} of the appointment.
PAGES = {
    "moved": (
        N_("Your appointment was moved"),
        N_("Your appointment now takes place on {date} at {time}. Use the link in your most recent mail."),
    ),
    "cancelled": (
        N_("Your appointment was cancelled"),
        N_("The appointment of {date} at {time} was cancelled. You can book a new appointment on our website."),
    ),
    "not_ready": (
        N_("The video call is not ready yet"),
        N_("The video call for your appointment on {date} at {time} is being prepared. Try again in a few minutes."),
    ),
    "closed": (
        N_("This appointment is closed"),
        N_("The appointment of {date} at {time} has ended or is being rescheduled. We will contact you if needed."),
    ),
}


@functools.cache
def _environment(language: str):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(language), newstyle=True)
    return environment


def render_page(kind: str, language: str, start) -> str:
    """Render the page of `kind` for an appointment starting at `start` (aware UTC)."""
    language = check_language(language)
    title_id, text_id = PAGES[kind]
    gettext = translations(language).gettext
    text = gettext(text_id).format(date=format_local_date(start, language), time=format_local_time(start, language))
    return _environment(language).get_template("status.html").render(lang=language, title=gettext(title_id), text=text)
