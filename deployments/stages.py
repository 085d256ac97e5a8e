"""The Ray glue of the analysis: the pipeline's stages (models/pipeline.py) as calls to the model deployments'
handles, shared by the ingress (synchronous requests) and the job consumer."""

from __future__ import annotations

import asyncio

from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle

from softskills.api.errors import Overloaded
from softskills.models.pipeline import Stages


def _stage(method, retry_after_s: int):
    """A deployment method as a pipeline stage: the remote request is cancelled when the caller is, and a model
    deployment whose queue is full means the service is overloaded."""

    async def call(*args):
        response = method.remote(*args)
        try:
            return await response
        except asyncio.CancelledError:
            response.cancel()
            raise
        except BackPressureError:
            raise Overloaded(retry_after_s) from None

    return call


def model_stages(
    speech: DeploymentHandle, face: DeploymentHandle, engine: DeploymentHandle, retry_after_s: int
) -> Stages:
    return Stages(
        transcribe=_stage(speech.transcribe, retry_after_s),
        identify_language=_stage(speech.identify_language, retry_after_s),
        analyze_voice=_stage(speech.analyze_voice, retry_after_s),
        landmarks=_stage(face.landmarks, retry_after_s),
        interpret=_stage(engine.interpret, retry_after_s),
        pose=_stage(face.pose, retry_after_s),
        diarize=_stage(speech.diarize, retry_after_s),
    )
