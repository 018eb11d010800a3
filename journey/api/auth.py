"""API keys (CONTRACT.md section 3, JOURNEY_API_KEYS): `Authorization: Bearer KEY` on every data route."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False, description="one of the keys in JOURNEY_API_KEYS")


def key_matches(given: str, keys: frozenset[str]) -> bool:
    """True when the key given is one of the keys; every key is compared in constant time."""
    given_bytes = given.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(given_bytes, key.encode())
    return found


async def require_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """Without configured keys the API is open; with them a route answers 401 unless a key is given."""
    keys: frozenset[str] = request.app.state.api_keys
    if not keys:
        return
    if credentials is None or not key_matches(credentials.credentials, keys):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="a valid API key is required: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
