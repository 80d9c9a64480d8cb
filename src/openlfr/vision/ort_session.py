"""One way to open (and share) an ONNX Runtime session for the converted dlib networks."""

from __future__ import annotations

import logging
from functools import lru_cache

import onnxruntime as ort

from openlfr.errors import ModelNotFoundError
from openlfr.vision.onnx_backend import CUDA

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def cached_session(
    path: str, providers: tuple[str, ...], threads: int, what: str
) -> ort.InferenceSession:
    """A session per (file, providers, threads), opened once per process. `what` names the
    network in errors and in the warning when CUDA was asked for but could not start."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(path, sess_options=options, providers=list(providers))
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelNotFoundError(f"converted {what} {path} is unusable: {exc}") from None
    if providers[0] == CUDA and session.get_providers()[0] != CUDA:
        log.warning("CUDA provider could not start for the %s; running on CPU", what)
    return session
