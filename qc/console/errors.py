"""How a refusal reaches the browser or a script: one message, the right status, HTML or JSON.

Library code raises ``ReviewError`` with a one-line message and no status; the console decides the
status where it can (its own role and visibility checks come first, so 403 and 404 are exact) and
falls back on reading the message for the review desk's own refusals (a verdict already given or a
locked month is 409).
"""

from __future__ import annotations

from starlette.requests import Request

from qc.review.users import ReviewError


class RefusedError(Exception):
    """A request the console will not serve: ``status`` and a message shown as is."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NotSignedInError(Exception):
    """No valid session: pages redirect to the login page, the API answers 401."""


# The review desk's messages, read for their status (first match wins; anything else is a conflict
# with the state of the review: 409).
_NOT_FOUND = ("unknown call", "unknown appeal", "unknown rule", "has no hit", "unknown user", "not in the review queue")
_FORBIDDEN = ("needs one of", "may not", "only ", "is not in", "needs a team lead")
_INVALID = ("needs --", "must be", "is not one of", "needs a comment", "asked no points")


def review_status(err: ReviewError) -> int:
    text = str(err)
    if any(p in text for p in _NOT_FOUND):
        return 404
    if any(p in text for p in _FORBIDDEN):
        return 403
    if any(p in text for p in _INVALID):
        return 400
    return 409


def wants_json(request: Request) -> bool:
    """The API, htmx and scripts get JSON; a browser navigating to a page gets HTML."""
    if request.url.path.startswith("/api/"):
        return True
    if request.headers.get("hx-request"):
        return True
    return "text/html" not in request.headers.get("accept", "")
