"""Minimal stand-in for `torch`, enough for `import xgrammar` on CPU.

xgrammar's matcher.py / testing.py import torch at module level only to
build int32 bitmask tensors. The C++ core accepts any DLPack array, so we
hand it numpy arrays instead and avoid a multi-GB torch install.
Call install() before `import xgrammar`.
"""
import sys
import types

import numpy as np


def install():
    if "torch" in sys.modules:
        return
    # tvm_ffi inspects torch at import time if it is already loaded; load it
    # first so it never sees the stub.
    import tvm_ffi  # noqa: F401
    import transformers  # noqa: F401  (same: it probes torch via find_spec)
    t = types.ModuleType("torch")
    t.int32 = np.int32
    t.int64 = np.int64
    t.float32 = np.float32
    t.bool = np.bool_
    t.Tensor = np.ndarray
    t.LongTensor = np.ndarray
    t.FloatTensor = np.ndarray
    t.dtype = type(np.dtype("int32"))
    t.__version__ = "0.0.0-stub"

    def tensor(data, dtype=None, device=None):
        return np.array(data, dtype=dtype)

    def full(shape, fill, dtype=None, device=None):
        return np.full(shape, fill, dtype=dtype)

    def zeros(shape, dtype=None, device=None):
        return np.zeros(shape, dtype=dtype)

    t.tensor = tensor
    t.full = full
    t.zeros = zeros
    cuda = types.ModuleType("torch.cuda")
    cuda.is_available = lambda: False
    t.cuda = cuda
    t.device = lambda *a, **k: "cpu"
    sys.modules["torch"] = t
    sys.modules["torch.cuda"] = cuda
