"""The application graph: `serve run serve_config.yaml` imports `deployments.app:build_app`."""

from __future__ import annotations

from ray.serve import Application

from deployments.config import AppArgs
from deployments.engine import EngineDeployment
from deployments.face import FaceLandmarksDeployment
from deployments.ingress import Ingress
from deployments.speech import SpeechToTextDeployment


def build_app(args: AppArgs) -> Application:
    """Serve's application builder; `args` are the `args:` of the config file, validated by pydantic."""
    if isinstance(args, dict):
        args = AppArgs(**args)
    return Ingress.bind(SpeechToTextDeployment.bind(args.speech.model_dump()),
                        FaceLandmarksDeployment.bind(args.face.model_dump()),
                        EngineDeployment.bind(args.engine.model_dump()),
                        args.ingress.model_dump())
