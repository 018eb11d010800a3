"""API keys (CONTRACT.md section 3, JOURNEY_API_KEYS): `Authorization: Bearer KEY` (or the
`X-API-Key: KEY` header many API clients send) on every data route."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False, description="one of the keys in JOURNEY_API_KEYS")
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="one of the keys in JOURNEY_API_KEYS"
)


def key_matches(given: str, keys: frozenset[str]) -> bool:
    """True when the key given is one of the keys; every key is compared in constant time."""
    given_bytes = given.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(given_bytes, key.encode())
    return found


async def require_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key_header)],
) -> None:
    """Without configured keys the API is open; with them a route answers 401 unless a key is given."""
    keys: frozenset[str] = request.app.state.api_keys
    if not keys:
        return
    given = [k for k in (credentials.credentials if credentials else None, header_key) if k]
    if not any(key_matches(k, keys) for k in given):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="a valid API key is required: Authorization: Bearer <key> (or X-API-Key: <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
