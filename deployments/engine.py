"""Engine deployment: the one interpretation model (models/interpretation/model.py) with its MiniLM sentence
embeddings; every score, level and feedback sentence of both endpoints comes from here."""

from __future__ import annotations

import asyncio

import numpy as np
from ray import serve

from softskills.config.options import EngineOptions


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=8)
class EngineDeployment:
    def __init__(self, options: dict | None = None):
        from softskills.models.interpretation.engine import SentenceEncoder
        from softskills.models.interpretation.model import load_params

        opts = EngineOptions(**(options or {}))
        self._params = load_params(opts.params_path) if opts.params_path else load_params()
        self._encoder = SentenceEncoder(model_dir=opts.model_dir, device=opts.device)
        self._embed_batch.set_max_batch_size(opts.max_batch_size)
        self._embed_batch.set_batch_wait_timeout_s(opts.batch_wait_timeout_s)

    async def interpret(self, measurements, earlier=None):
        """models.measurements.Measurements -> models.interpretation.model.Interpretation; `earlier`: the stored
        sessions of the request's subject (models.progress.SessionRecord), None without one. The sentences of
        concurrent requests are embedded together (one forward pass per batch); the rest runs in a thread."""
        from softskills.models.interpretation.model import interpret

        texts = list(
            dict.fromkeys(
                [s.text for s in measurements.sentences]
                + ([measurements.context_phrase] if measurements.context_phrase else [])
            )
        )
        table = dict(zip(texts, await self._embed_batch(texts))) if texts else {}
        return await asyncio.to_thread(
            interpret, measurements, lambda batch: np.stack([table[t] for t in batch]), self._params, earlier
        )

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def _embed_batch(self, text_lists: list[list[str]]) -> list[np.ndarray]:
        flat = [t for texts in text_lists for t in texts]
        vectors = await asyncio.to_thread(self._encoder.embed, flat)
        bounds = np.cumsum([len(texts) for texts in text_lists])[:-1]
        return np.split(vectors, bounds)
