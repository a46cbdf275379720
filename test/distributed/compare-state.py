#!/usr/bin/env python3
"""Compares the state blocks (section STAT) of two exported mest models as
float32 words: words that differ must be within a relative tolerance (the
integer metadata, indices and counts, must be bit-equal, so any difference
there fails as a huge relative error or a NaN).

  compare-state.py A.mest B.mest [--rtol R] [--atol A] [--expect-different]
Reads the files with test/driver/mestfile.py (written from docs/training.md)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "driver"))
import mestfile  # noqa: E402


def stat(path):
    _, _, sections = mestfile.read(path)
    return bytes(mestfile.section(sections, "STAT"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=1e-3)
    p.add_argument("--atol", type=float, default=1e-5)
    p.add_argument("--expect-different", action="store_true")
    o = p.parse_args()
    a, b = stat(o.a), stat(o.b)
    if len(a) != len(b):
        sys.exit(f"state blocks of {len(a)} and {len(b)} bytes")
    fa = np.frombuffer(a, dtype=np.float32)
    fb = np.frombuffer(b, dtype=np.float32)
    ia = np.frombuffer(a, dtype=np.uint32)
    ib = np.frombuffer(b, dtype=np.uint32)
    differ = ia != ib
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(fa.astype(np.float64) - fb.astype(np.float64))
        bound = o.atol + o.rtol * np.abs(fb.astype(np.float64))
        bad = differ & ~(err <= bound)
    worst = float(np.max(np.where(differ, err / np.maximum(bound, 1e-30), 0))) if differ.any() else 0.0
    print(f"{len(fa)} words, {int(differ.sum())} differ, {int(bad.sum())} beyond "
          f"rtol {o.rtol} atol {o.atol}; worst error / tolerance {worst:.3g}")
    if o.expect_different:
        if not bad.any():
            sys.exit("expected the states to differ beyond the tolerance; they do not")
    elif bad.any():
        k = int(np.argmax(bad))
        sys.exit(f"word {k} (byte {4 * k}): {fa[k]!r} vs {fb[k]!r}")


main()
