#!/usr/bin/env python3
"""Issue 16's tree, written under ROOT: 100,000 small files (1-8 KiB, 100 directories) and four
large ones (64 MiB each); all random, the small ones from a fixed seed."""
import os
import random
import sys

root = sys.argv[1]
rnd = random.Random(16)
for d in range(100):
    os.makedirs(f"{root}/small/{d:03d}", exist_ok=True)
    for f in range(1000):
        with open(f"{root}/small/{d:03d}/{f:04d}.txt", "wb") as out:
            out.write(rnd.randbytes(rnd.randint(1024, 8192)))
os.makedirs(f"{root}/large", exist_ok=True)
for i in range(4):
    with open(f"{root}/large/{i}.bin", "wb") as out:
        for _ in range(64):
            out.write(os.urandom(1 << 20))
