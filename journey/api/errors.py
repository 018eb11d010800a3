"""The API's error answers: unknown customer or dealer -> 404, a bad parameter -> 422 naming it,
views computed with other rules than the server's -> 409."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from journey.errors import (
    JourneyError,
    RulesMismatchError,
    StoreUnavailableError,
    UnknownCustomerError,
    UnknownDealerError,
)

_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*): ")


class InvalidParameterError(JourneyError, ValueError):
    """A query parameter the engine cannot use; ``parameter`` names it."""

    def __init__(self, parameter: str, reason: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {reason}")


def parameter_of(exc: Exception) -> str:
    """The parameter an error names: its ``parameter``, else the ``field: ...`` its message starts with."""
    named = getattr(exc, "parameter", None)
    if isinstance(named, str):
        return named
    found = _FIELD.match(str(exc))
    return found.group(1) if found else "query"


def unprocessable(parameter: str, message: str) -> JSONResponse:
    """The 422 body FastAPI gives for its own validation errors, naming the parameter."""
    body = {"detail": [{"loc": ["query", parameter], "msg": message, "type": "value_error"}]}
    return JSONResponse(body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)


async def _journey_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ValueError):
        return unprocessable(parameter_of(exc), str(exc))
    if isinstance(exc, StoreUnavailableError):
        return JSONResponse({"detail": "the event store is unavailable"}, status_code=503)
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UnknownCustomerError, _not_found)
    app.add_exception_handler(UnknownDealerError, _not_found)
    app.add_exception_handler(RulesMismatchError, _conflict)
    app.add_exception_handler(JourneyError, _journey_error)
