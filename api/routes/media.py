"""`GET /media/<name>?signature=...`: the local store's signed, expiring URLs, with HTTP Range support. Served by the
ingress only when the local store is on (`app.state.media`: the replica's LocalVideoStore, or None)."""

# No `from __future__ import annotations`: FastAPI reads the routes' parameter types at run time.
import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from softskills.api.errors import Forbidden, NotFound
from softskills.storage.local import MEDIA_PATH, LocalVideoStore, MediaForbidden

FORBIDDEN_DETAIL = "This video link is invalid or has expired."


def _local_store(request: Request) -> LocalVideoStore | None:
    return request.app.state.media


LocalStore = Annotated[LocalVideoStore | None, Depends(_local_store)]
router = APIRouter()


@router.api_route(MEDIA_PATH + "/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def signed_video(name: str, store: LocalStore, signature: str = "") -> Response:
    if store is None:
        raise NotFound()
    try:
        path, content_type = await asyncio.to_thread(store.open_signed, name, signature)
    except MediaForbidden:
        raise Forbidden(FORBIDDEN_DETAIL) from None
    except FileNotFoundError:
        raise NotFound() from None
    # FileResponse answers Range requests with 206 (and 416 for unsatisfiable ones), so players can seek.
    return FileResponse(
        path,
        media_type=content_type,
        headers={"Cache-Control": "private, no-transform", "X-Content-Type-Options": "nosniff"},
    )
