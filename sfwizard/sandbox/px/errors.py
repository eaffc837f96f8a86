"""Gainsight PX's error answers.

PX's published contract (Swagger 0.1.6) gives each error only a status and a text ("Bad request",
"Unauthorized or bad API Key", "Type not found", "Rate limit exceeded") and defines no body. The body used
here is the envelope REFERENCE.md records as PX's (``{"externalapierror": {...}}``): unverified against
the contract, so clients must key on the HTTP status and tolerate any body (sfwizard's does).
"""

from __future__ import annotations

from http import HTTPStatus

from sfwizard.sandbox.http import Response, json_response


def px_error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    name = HTTPStatus(status).name if status in HTTPStatus._value2member_map_ else "ERROR"
    return json_response({"externalapierror": {"status": name, "message": message, "debugMessage": None,
                                               "subErrors": None}}, status, headers)
