"""The store's caches: vectors by (text hash, model key), and sentiment heads fitted on the store's ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.store.database import Database


class Cache:
    """The embedding cache and the fitted sentiment heads (``store.cache``)."""

    def __init__(self, db: Database):
        self.db = db

    def embeddings(self, hashes: list[str], model_key: str) -> dict[str, np.ndarray]:
        """The cached vectors of ``hashes`` under ``model_key``, by content hash (those not cached are absent)."""
        if not hashes:
            return {}
        with self.db.connect(read_only=True) as con:
            con.register("wanted", pd.DataFrame({"content_hash": list(dict.fromkeys(hashes))}))
            rows = con.execute(
                "SELECT e.content_hash, e.vector FROM embeddings e JOIN wanted w USING (content_hash) "
                "WHERE e.model_key = ?", [model_key]).fetchall()
        return {h: np.frombuffer(v, dtype=np.float32) for h, v in rows}

    def embedded(self, hashes: list[str], model_key: str) -> set[str]:
        """Which of ``hashes`` have a vector for ``model_key`` (without reading the vectors)."""
        if not hashes:
            return set()
        with self.db.connect(read_only=True) as con:
            con.register("wanted", pd.DataFrame({"content_hash": list(dict.fromkeys(hashes))}))
            rows = con.execute("SELECT e.content_hash FROM embeddings e JOIN wanted w USING (content_hash) "
                               "WHERE e.model_key = ?", [model_key]).fetchall()
        return {h for (h,) in rows}

    def save_embeddings(self, hashes: list[str], vectors: np.ndarray, model_key: str) -> None:
        """Cache one vector per content hash under ``model_key`` (a hash already cached is left as it is)."""
        if not hashes:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        frame = pd.DataFrame({
            "content_hash": hashes, "model_key": model_key, "dim": vectors.shape[1],
            "vector": [v.tobytes() for v in vectors],
        }).drop_duplicates(["content_hash", "model_key"])
        with self.db.transaction() as con:
            con.register("incoming", frame)
            con.execute("INSERT INTO embeddings SELECT * FROM incoming ON CONFLICT DO NOTHING")

    def sentiment_head(self, head_key: str) -> bytes | None:
        """The weights of the head fitted on ratings under ``head_key`` (nlp.sentiment_head), None if none."""
        with self.db.connect(read_only=True) as con:
            row = con.execute("SELECT weights FROM sentiment_heads WHERE head_key = ?", [head_key]).fetchone()
        return None if row is None else bytes(row[0])

    def save_sentiment_head(self, head_key: str, n_ratings: int, weights: bytes) -> None:
        with self.db.transaction() as con:
            con.execute("INSERT INTO sentiment_heads VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [head_key, n_ratings, weights])
