"""Engine deployment: interprets the KPIs and the transcript (all-MiniLM-L6-v2 content signals)."""

from __future__ import annotations

import asyncio

import numpy as np
from ray import serve

from deployments.config import EngineOptions


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=8)
class EngineDeployment:
    def __init__(self, options: dict | None = None):
        from models.interpretation.engine import Engine

        opts = EngineOptions(**(options or {}))
        self._engine = Engine(model_dir=opts.model_dir, params_path=opts.params_path, device=opts.device)
        self._embed_batch.set_max_batch_size(opts.max_batch_size)
        self._embed_batch.set_batch_wait_timeout_s(opts.batch_wait_timeout_s)

    async def analyze(self, kpis: dict, transcript: dict, context_phrase: str | None) -> dict:
        """Returns the JSON-ready `engine_analysis` object. Text work runs in threads (the event loop only awaits);
        the sentence embeddings of concurrent requests are computed together, one forward pass per batch."""
        from models.interpretation.sentences import split_sentences

        sentences = await asyncio.to_thread(split_sentences, transcript)
        texts = list(dict.fromkeys([s.text for s in sentences]
                                   + ([context_phrase.strip()] if context_phrase and context_phrase.strip() else [])))
        embeddings = dict(zip(texts, await self._embed_batch(texts))) if texts else {}
        return await asyncio.to_thread(self._engine.analyze, kpis, transcript, context_phrase, sentences=sentences,
                                       embeddings=embeddings)

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def _embed_batch(self, text_lists: list[list[str]]) -> list[np.ndarray]:
        flat = [t for texts in text_lists for t in texts]
        vectors = await asyncio.to_thread(self._engine.embed, flat)
        bounds = np.cumsum([len(texts) for texts in text_lists])[:-1]
        return np.split(vectors, bounds)
