"""Tiled attention against torch's fused kernel and against plain NumPy attention.

``attention``: time (and GFLOP/s against NumPy's own matmul) at batch 1, 12 heads, d_head 64,
causal, float32. ``attention_memory``: peak memory of plain and tiled attention at n = 8192.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable

import numpy as np

from bench.runner import Result, Target, case, time_side_by_side
from llmarch import causal_mask, scaled_dot_product_attention, tiled_attention

HEADS, D_HEAD = 12, 64
LENGTHS = (256, 1024, 2048)
RATIO_LIMIT = 1.5  # tiled at most 1.5x torch's time at n >= 1024
WORKERS = os.cpu_count() or 1  # torch uses every core too


def causal_flops(n: int, heads: int = HEADS, d: int = D_HEAD) -> float:
    """Useful floating-point operations of causal attention: q.k and p.v for each of the n(n+1)/2 pairs."""
    return 4.0 * d * heads * n * (n + 1) / 2


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """NumPy's float32 matmul speed on square matrices: the practical ceiling for NumPy code."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    seconds = time_side_by_side({"matmul": lambda: a @ b}, repeats=repeats)["matmul"]
    return 2.0 * n**3 / seconds / 1e9


def _time_attention(rng: np.random.Generator, n: int, repeats: int) -> tuple[dict[str, float], float]:
    """Median seconds of torch, tiled and plain causal attention on the same inputs; tiled's max error."""
    import torch
    import torch.nn.functional as F

    q, k, v = (rng.standard_normal((1, HEADS, n, D_HEAD), dtype=np.float32) for _ in range(3))
    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    mask = causal_mask(n)
    reference = F.scaled_dot_product_attention(tq, tk, tv, is_causal=True).numpy()
    error = float(np.abs(tiled_attention(q, k, v, causal=True, workers=WORKERS) - reference).max())
    if error > 1e-5:
        raise AssertionError(f"tiled attention differs from torch by {error:.2e} at n={n}")
    functions: dict[str, Callable[[], object]] = {
        "torch": lambda: F.scaled_dot_product_attention(tq, tk, tv, is_causal=True),
        "tiled": lambda: tiled_attention(q, k, v, causal=True, workers=WORKERS),
    }
    seconds = time_side_by_side(functions, repeats=repeats)
    # Plain attention is timed on its own: it allocates and frees the n x n matrices, and in the
    # same rotation it slowed whichever function ran next (at n = 1024, torch about 2x, tiled 40%).
    seconds |= time_side_by_side({"plain": lambda: scaled_dot_product_attention(q, k, v, mask=mask)}, repeats=repeats)
    return seconds, error


@case("attention", needs=("torch",))
def attention(quick: bool) -> Result:
    """Tiled causal attention against torch's scaled_dot_product_attention on the CPU."""
    import torch

    torch.set_grad_enabled(False)
    rng = np.random.default_rng(0)
    lengths = (128, 256) if quick else LENGTHS
    ceiling = matmul_gflops(512 if quick else 2048)
    rows, ratios = [], {}
    for n in lengths:
        seconds, error = _time_attention(rng, n, repeats=3 if quick else 7)
        ratios[n] = seconds["tiled"] / seconds["torch"]
        gflops = {name: causal_flops(n) / s / 1e9 for name, s in seconds.items()}
        rows.append(
            [
                n,
                round(seconds["torch"] * 1e3, 2),
                round(seconds["tiled"] * 1e3, 2),
                round(seconds["plain"] * 1e3, 2),
                round(ratios[n], 2),
                round(seconds["plain"] / seconds["torch"], 2),
                round(gflops["tiled"], 1),
                round(gflops["torch"], 1),
                round(100 * gflops["tiled"] / ceiling, 1),
                float(f"{error:.2g}"),
            ]
        )
    long = [n for n in lengths if n >= 1024] or [max(lengths)]
    return Result(
        title="causal attention, batch 1, 12 heads, d_head 64, float32 (CPU)",
        columns=[
            "n",
            "torch ms",
            "tiled ms",
            "plain ms",
            "tiled/torch",
            "plain/torch",
            "tiled GFLOP/s",
            "torch GFLOP/s",
            "tiled % of matmul",
            "max |tiled-torch|",
        ],
        rows=rows,
        targets=[
            Target(f"tiled time / torch time at n = {n}", RATIO_LIMIT, round(ratios[n], 2), at_most=True) for n in long
        ],
        notes=[
            "torch: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True) on the CPU, "
            "its fused kernel, on all cores; tiled: llmarch.tiled_attention(q, k, v, causal=True, workers=<cores>) "
            "with its default tile shape; "
            "plain: llmarch.scaled_dot_product_attention with llmarch.causal_mask(n).",
            "Times are medians of 7 runs after one warm-up, torch and tiled interleaved; plain on its own "
            "afterwards (its n x n allocations slowed the next function in the rotation). "
            "GFLOP/s count the useful work only: "
            "q.k and p.v for each of the n(n+1)/2 allowed pairs, 4 * d_head * heads * n(n+1)/2 operations.",
            "The ceiling is NumPy's own float32 matmul of two square matrices (2048 x 2048), timed in the same run.",
        ],
        extra={"numpy_matmul_gflops": round(ceiling, 1), "workers": WORKERS, "torch_backend": _torch_backend()},
    )


def _torch_backend() -> str:
    """Which kernel torch picks for these inputs on the CPU (a private function: best effort)."""
    import torch

    try:
        q = torch.zeros(1, HEADS, 256, D_HEAD)
        choice = torch._fused_sdp_choice(q, q, q, is_causal=True)
        from torch.nn.attention import SDPBackend

        return next(name for name, member in SDPBackend.__members__.items() if int(member) == int(choice))
    except Exception as exc:  # a private function: the label is all that is lost
        return f"unknown ({type(exc).__name__})"


def peak_mib(function: Callable[..., object], *args: object, **kwargs: object) -> float:
    """Peak MiB allocated during the call, as tracemalloc sees it (NumPy reports its arrays there)."""
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@case("attention_memory")
def attention_memory(quick: bool) -> Result:
    """Peak memory of plain and tiled causal attention for one long sequence."""
    rng = np.random.default_rng(0)
    rows, ratio = [], 1.0
    for n in (1024, 2048) if quick else (2048, 8192):
        q, k, v = (rng.standard_normal((1, n, D_HEAD), dtype=np.float32) for _ in range(3))
        mask = causal_mask(n)
        plain = peak_mib(scaled_dot_product_attention, q, k, v, mask=mask)
        tiled = peak_mib(tiled_attention, q, k, v, causal=True)
        ratio = plain / tiled
        rows.append([n, round(n * n * 4 / 2**20, 1), round(plain, 1), round(tiled, 2), round(ratio)])
    return Result(
        title="peak memory of one head of causal attention, d_head 64, float32",
        columns=["n", "n x n scores MiB", "plain MiB", "tiled MiB", "plain/tiled"],
        rows=rows,
        notes=[
            "Measured with tracemalloc (NumPy reports every array it allocates there): the peak of the memory "
            "allocated during the call, beyond its inputs (for plain attention these include the causal mask, "
            "n x n bools). Tiled attention uses its default block size and one worker.",
        ],
    )
