"""`GET /media/<name>?signature=...`: the local store's signed, expiring URLs, with HTTP Range support."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from softskills.deployments.errors import Forbidden, NotFound

from softskills.storage.local import MEDIA_PATH, LocalVideoStore, MediaForbidden

FORBIDDEN_DETAIL = "This video link is invalid or has expired."
router = APIRouter()
_store: LocalVideoStore | None = None  # one per replica process, set by the ingress when the local store is on


def serve_local_store(store: LocalVideoStore | None) -> None:
    global _store
    _store = store


@router.api_route(MEDIA_PATH + "/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def signed_video(name: str, signature: str = "") -> Response:
    if _store is None:
        raise NotFound()
    try:
        path, content_type = await asyncio.to_thread(_store.open_signed, name, signature)
    except MediaForbidden:
        raise Forbidden(FORBIDDEN_DETAIL) from None
    except FileNotFoundError:
        raise NotFound() from None
    # FileResponse answers Range requests with 206 (and 416 for unsatisfiable ones), so players can seek.
    return FileResponse(path, media_type=content_type,
                        headers={"Cache-Control": "private, no-transform", "X-Content-Type-Options": "nosniff"})
