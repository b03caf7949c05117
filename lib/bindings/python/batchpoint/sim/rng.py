# SPDX-License-Identifier: MIT
"""The runner's seeded pseudo-random sequence (bpsim's): request ids and mapping UUIDs are the
same on every run."""

M64 = (1 << 64) - 1


class Rng:
    """xorshift64*: request ids and UUIDs, seeded (bpsim's sequence)."""

    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        x = self.s
        x ^= x >> 12
        x ^= (x << 25) & M64
        x ^= x >> 27
        self.s = x
        return (x * 0x2545F4914F6CDD1D) & M64

    def uuid(self):
        a, b = self.next(), self.next()
        return "%08x-%04x-4%03x-%04x-%012x" % (a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                                               0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffff)
