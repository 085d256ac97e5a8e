"""The HTTP API of one ingress replica: a FastAPI app built from what its composition root made
(deployments/replicas.py), so every route receives its services as FastAPI dependencies from `app.state`, never
through module globals. One port serves the API, the local store's signed URLs and (mounted beside, by the ingress)
the dashboard."""

from __future__ import annotations

import functools

from fastapi import FastAPI

from softskills.api.errors import install_error_handler
from softskills.api.openapi import openapi_document
from softskills.api.routes import analysis, jobs, media, subjects
from softskills.api.routes.analysis import SynchronousAnalyses
from softskills.api.routes.jobs import JobRoutes
from softskills.api.routes.subjects import SubjectRoutes
from softskills.config.options import HttpOptions
from softskills.storage.local import LocalVideoStore

TITLE = "SoftSkills API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Communication analysis of a video of a person speaking: transcript, pace, filler words, pauses, "
    "voice, eye contact, facial behaviour, scores with the evidence behind them, and feedback. "
    "Authenticate with `Authorization: Bearer ng_...` or `X-API-Key: ng_...`."
)


def build_api(
    limits: HttpOptions,
    analyses: SynchronousAnalyses | None,
    job_routes: JobRoutes | None,
    media_store: LocalVideoStore | None,
    subject_routes: SubjectRoutes | None,
) -> FastAPI:
    """The app with its routes and its one error handler; /openapi.json states the request fields with `limits`,
    this replica's own. The docs build the document with the services left out (None): it needs only the routes."""
    app = FastAPI(title=TITLE, version=VERSION, description=DESCRIPTION)
    app.state.analyses, app.state.jobs, app.state.media = analyses, job_routes, media_store
    app.state.subjects = subject_routes
    for routes in (analysis, jobs, media, subjects):
        app.include_router(routes.router)
    install_error_handler(app)
    app.openapi = functools.partial(openapi_document, app, limits)
    return app
