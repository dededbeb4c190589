#!/usr/bin/env python3
"""Prints the cached powers of ten of crates/digest/src/fpconv.rs.

Entry i is 10^k for k = -348 + 8*i (i = 0..86) as a normalized binary
floating-point number f * 2^e with 2^63 <= f < 2^64, f rounded to the
nearest integer (ties up), computed with exact rational arithmetic.
"""
from fractions import Fraction

for i in range(87):
    k = -348 + 8 * i
    v = Fraction(10) ** k
    e = v.numerator.bit_length() - v.denominator.bit_length() - 64
    while v / Fraction(2) ** e >= 2**64:
        e += 1
    while v / Fraction(2) ** e < 2**63:
        e -= 1
    q = v / Fraction(2) ** e
    f = q.numerator // q.denominator
    if q - f >= Fraction(1, 2):
        f += 1
    if f == 2**64:
        f //= 2
        e += 1
    print(f"    ({f}, {e}),")
