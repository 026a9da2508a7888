"""Content negotiation that honours ``q=0``: an ``Accept`` that excludes JSON is a 406."""

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation

# From the most specific media range to the least: the first one present decides JSON's quality.
_JSON_RANGES = ("application/json", "application/*", "*/*")


def json_quality(accept: str) -> float:
    """Return the quality an ``Accept`` header gives ``application/json`` (0 when excluded)."""
    qualities: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        qualities[media] = max(quality, qualities.get(media, 0.0))
    for media in _JSON_RANGES:
        if media in qualities:
            return qualities[media]
    return 0.0


class ContractNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "").strip()
        if accept and json_quality(accept) <= 0:
            raise exceptions.NotAcceptable()
        return super().select_renderer(request, renderers, format_suffix)
