#!/usr/bin/env python3
"""Fits the piecewise polynomials of float32 tanh (tanh_f32_table.h) and prints that header.

Why a table of our own: SLEEF's 1-ULP float tanh costs 0.9 ns an element on one AVX-512 core
(an expm1 and a division); its faster tanhf_u35 is 2.9 ULP off, Highway's 2.7, and the issue's
bar is 2 (docs/performance.md, "float32 tanh from a table of polynomials"). NumPy and XLA use
piecewise or rational polynomials; this is our own fit of the former.

|x| is split into 30 intervals: [0, 1/16); the quarter-binades of [1/16, 8) (28 of them: the
index is read off the float's exponent and two leading mantissa bits); [8, 9.5], where larger
|x| are clamped (tanh rounds to 1 from 9.0109). On each, tanh(c + t) ~ sum_k coef[k] t^k around
the interval's centre c, so t = |x| - c is exact (c and |x| share their binade) and the Horner
scheme ends by adding coef[0] ~ tanh(c), which dominates. The first interval is fitted as an odd
polynomial with coef[0] = 0 and coef[1] = 1 exactly, so tiny x keep full relative precision.

Each polynomial is fitted for relative error at Chebyshev nodes by Lawson's reweighting (a
minimax approximation), then its coefficients are rounded to float32 one at a time from the
constant term up, the rest refitted after each rounding, so the later ones absorb the earlier
ones' rounding. The script reports each interval's error of the rounded float32 evaluation
(with FMA, as the loops do) over sampled floats; vector_math_test checks the shipped loops over
every 257th float, tests/conformance/test_vector_math.py against long doubles, and
tensord_tanh_every_float over every float (run it after regenerating: 0.994 ULP today).

Usage: python3 engine/ops/scalar/fit_tanh_f32.py > engine/ops/scalar/tanh_f32_table.h
"""
import sys

import numpy as np

DEGREE = 5
CLAMP = 9.5
INTERVALS = 32  # table width: two 16-float AVX-512 registers


def intervals():
    out = [(0.0, 1 / 16, 0.0)]
    for e in range(-4, 3):
        for k in range(4):
            lo, hi = 2.0**e * (1 + k / 4), 2.0**e * (1 + (k + 1) / 4)
            out.append((lo, hi, (lo + hi) / 2))
    out.append((8.0, CLAMP, 8.75))
    return out


SHIFT = 23 - 2  # a float's bits >> SHIFT: its exponent and two leading mantissa bits
OFFSET = (int(np.float32(1 / 16).view(np.int32)) >> SHIFT) - 1


def interval_of(x):
    """The loops' index: clamp((bits(|x|) >> SHIFT) - OFFSET, 0, last)."""
    bits = int(np.float32(min(abs(x), CLAMP)).view(np.int32))
    return min(max((bits >> SHIFT) - OFFSET, 0), len(intervals()) - 1)


def lawson(basis, target, f, iterations=60):
    """Coefficients c approximately minimizing max |basis @ c - target| / |f| (Lawson)."""
    weight = np.ones(len(target))
    scale = 1 / np.abs(f)
    for _ in range(iterations):
        w = np.sqrt(weight) * scale
        coef, *_ = np.linalg.lstsq(basis * w[:, None], target * w, rcond=None)
        err = np.abs(basis @ coef - target) * scale
        weight *= err / err.max() + 1e-300
        weight /= weight.sum()
    return coef


def fit(lo, hi, c):
    n = 4000
    nodes = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    t = nodes - c
    f = np.tanh(nodes)
    powers = np.vander(t, DEGREE + 1, increasing=True)
    coef = np.zeros(DEGREE + 1)
    free = list(range(DEGREE + 1))
    if lo == 0:  # odd, with tanh(t) = t + O(t^3) exactly
        coef[1] = 1.0
        free = list(range(3, DEGREE + 1, 2))
    tail = 0.0
    while free:  # round the lowest free coefficient, refit the rest
        v = lawson(powers[:, free], f - powers @ coef - tail, f)[0]
        coef[free[0]] = np.float32(v)
        if free[0] == 0:
            tail = float(np.float32(v - coef[0]))
        free = free[1:]
    return coef.astype(np.float32), tail


def round32(v):
    return np.asarray(v, dtype=np.float64).astype(np.float32).astype(np.float64)


def evaluate(coef, tail, t):
    """The loops' float32 Horner scheme with FMA, its last step adding coef[0]'s tail, then
    coef[0] (a*b is exact in double; each sum rounds in double, then to float: the rare double
    rounding only affects this estimate)."""
    acc = np.full_like(t, float(coef[-1]))
    for k in range(len(coef) - 2, 0, -1):
        acc = round32(acc * t + float(coef[k]))
    return round32(round32(acc * t + tail) + float(coef[0]))


def ulp_error(x, y):
    want = np.tanh(x.astype(np.float64))
    _, exponent = np.frexp(want)
    ulp = np.ldexp(1.0, np.maximum(exponent - 24, -149))
    return np.abs(y - want) / ulp


def sample_floats(lo, hi, count=400_000):
    a = np.float32(lo).view(np.int32)
    b = np.float32(hi).view(np.int32)
    if lo == 0:
        a = np.int32(1)
    bits = np.arange(a, b, dtype=np.int64) if b - a <= count else \
        np.random.default_rng(0).integers(a, b, count)
    return bits.astype(np.int32).view(np.float32)


def main():
    rows = intervals()
    assert len(rows) <= INTERVALS
    for i, (lo, hi, _) in enumerate(rows):
        below_hi = float(np.nextafter(np.float32(hi), np.float32(0)))
        assert interval_of(lo) == i and interval_of(below_hi) == i, (i, lo, hi)
    coefs, tails, centres, worst = [], [], [], 0.0
    for lo, hi, c in rows:
        coef, tail = fit(lo, hi, c)
        x = sample_floats(lo, hi)
        err = ulp_error(x, evaluate(coef, tail, x.astype(np.float64) - c)).max()
        worst = max(worst, err)
        print(f"[{lo:.6g}, {hi:.6g}): {err:.3f} ULP", file=sys.stderr)
        coefs.append(coef)
        tails.append(np.float32(tail))
        centres.append(np.float32(c))
    print(f"worst {worst:.3f} ULP", file=sys.stderr)
    while len(coefs) < INTERVALS:
        coefs.append(np.zeros(DEGREE + 1, dtype=np.float32))
        tails.append(np.float32(0))
        centres.append(np.float32(0))

    def literal(v):  # exact: a float32's hex digits, trailing zeros dropped
        if v == 0:
            return "0.0f"
        mantissa, exponent = float(v).hex().split("p")
        return f"{mantissa.rstrip('0').rstrip('.')}p{exponent}f"

    def row(values, indent):  # 4 values a line
        items = [literal(v) for v in values]
        lines = [", ".join(items[i:i + 4]) for i in range(0, len(items), 4)]
        return "{\n" + ",\n".join(indent + line for line in lines) + "}"

    print("// Generated by engine/ops/scalar/fit_tanh_f32.py (which explains the scheme); do not edit.")
    print("// Internal linkage (plain constexpr): each instruction set's file keeps its own copy.")
    print("#pragma once\n")
    print("namespace tensord::vmath::tanh_f32 {\n")
    print(f"constexpr int kDegree = {DEGREE};")
    print(f"constexpr float kClamp = {CLAMP}f;  // |x| beyond: tanh rounds to 1")
    print("// |x|'s interval: clamp((bits(|x|) >> kIndexShift) - kIndexOffset, 0, kLastInterval).")
    print(f"constexpr int kIndexShift = {SHIFT};")
    print(f"constexpr int kIndexOffset = {OFFSET};")
    print(f"constexpr int kLastInterval = {len(rows) - 1};")
    print("// Interval i's centre; its polynomial's coefficient of t^k in kCoefficients[k][i], the")
    print("// constant term's rounding error in kTails[i].")
    print("// clang-format off")
    print(f"alignas(64) constexpr float kCentres[{INTERVALS}] = {row(centres, '    ')};")
    print(f"alignas(64) constexpr float kTails[{INTERVALS}] = {row(tails, '    ')};")
    print(f"alignas(64) constexpr float kCoefficients[kDegree + 1][{INTERVALS}] = {{")
    for k in range(DEGREE + 1):
        print(f"    {row([c[k] for c in coefs], '        ')},")
    print("};")
    print("// clang-format on\n")
    print("}  // namespace tensord::vmath::tanh_f32")


if __name__ == "__main__":
    main()
