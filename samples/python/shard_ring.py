#!/usr/bin/env python3
"""MyRPC's shard routing in Python, written from docs/SHARDING.md: MurmurHash3 x86 32-bit (seed 0) over
UTF-8, and a ring of virtual nodes "<endpoint id>#<i>", sorted by (hash, endpoint id).

    python3 shard_ring.py --endpoints 10.0.0.1:7001,10.0.0.1:7002 --keys 5   # prints "user-<i> <owner>"
"""
import argparse
import bisect

VIRTUAL_NODES = 1000  # per unit of weight
MAX_RING_POINTS = 40000  # past this total, the points per unit of weight shrink to MAX_RING_POINTS / total weight


def murmur3_32(data: bytes, seed: int = 0) -> int:
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[n:]
    if tail:
        k = 0
        if len(tail) >= 3:
            k ^= tail[2] << 16
        if len(tail) >= 2:
            k ^= tail[1] << 8
        k ^= tail[0]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def canonical_key(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError("a shard key must be a string, an integer or a boolean")


class Ring:
    def __init__(self, endpoints, weights=None, virtual_nodes=VIRTUAL_NODES):
        weights = weights or {}
        total_weight = sum(weights.get(e, 1) for e in endpoints)
        per_weight = min(virtual_nodes, MAX_RING_POINTS / total_weight) if total_weight > 0 else virtual_nodes
        points = []
        for endpoint in sorted(endpoints):
            count = max(1, round_half_up(per_weight * weights.get(endpoint, 1)))
            for i in range(count):
                points.append((murmur3_32(f"{endpoint}#{i}".encode("utf-8")), endpoint))
        points.sort()
        self.hashes = [h for h, _ in points]
        self.owners = [e for _, e in points]

    def lookup(self, key) -> str:
        h = murmur3_32(canonical_key(key).encode("utf-8"))
        i = bisect.bisect_left(self.hashes, h)
        return self.owners[i % len(self.owners)]


def round_half_up(x: float) -> int:
    # JavaScript's Math.round: halves go up (Python's round() goes to even).
    import math
    return math.floor(x + 0.5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", required=True)
    parser.add_argument("--keys", type=int, default=10)
    args = parser.parse_args()
    ring = Ring(args.endpoints.split(","))
    for i in range(args.keys):
        print(f"user-{i} {ring.lookup(f'user-{i}')}")
