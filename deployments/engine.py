"""Engine deployment: interprets the KPIs and the transcript (all-MiniLM-L6-v2 content signals)."""

from __future__ import annotations

import asyncio

from ray import serve

from deployments.config import EngineOptions


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=8)
class EngineDeployment:
    def __init__(self, options: dict | None = None):
        from models.engine import Engine

        opts = EngineOptions(**(options or {}))
        self._engine = Engine(model_dir=opts.model_dir, params_path=opts.params_path, device=opts.device)

    async def analyze(self, kpis: dict, transcript: dict, context_phrase: str | None) -> dict:
        """Returns the JSON-ready `engine_analysis` object."""
        return await asyncio.to_thread(self._engine.analyze, kpis, transcript, context_phrase)
