"""The conversation language follows the residence: its official language, a choice in Brussels,
and the facility language only on request."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import LanguageNotAllowed, LanguageRequired
from shared.domain.model import Language


@dataclass(frozen=True)
class Residence:
    """The municipality a postal code belongs to, with its official and facility languages."""

    postcode: str
    municipality_id: str
    names: dict[str, str]
    official: tuple[Language, ...]
    facility: Language | None = None

    @property
    def allowed(self) -> tuple[Language, ...]:
        return self.official + ((self.facility,) if self.facility else ())

    def conversation_language(self, requested: Language | None) -> Language:
        """Return the language of the conversation, or raise when the request does not fit the residence."""
        choices = ", ".join(self.allowed)
        if requested is None:
            if len(self.official) > 1:
                raise LanguageRequired(field="language", choices=choices)
            return self.official[0]
        if requested not in self.allowed:
            raise LanguageNotAllowed(field="language", choices=choices)
        return requested
