"""What encryption at rest costs one write: AES-256-GCM + base64 of a case state, both ways.

    .venv/bin/python -m tests.bench.bench_crypto

A case's state is 7 KB after ten tasks (bench_write_path) and up to ~220 KB for the largest
cases; every write decrypts it once (load) and encrypts it once (save).
"""
import json
import statistics
import time

from service import crypto


def timed(fn, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main():
    ring = crypto.keyring_from({}, demo=True)
    for size in (7_000, 60_000, 220_000):
        text = json.dumps({'data': 'x' * (size - 12)})
        sealed = ring.encrypt(text, 'process_instance.state')
        n = 2000 if size < 100_000 else 300
        enc = timed(lambda: ring.encrypt(text, 'process_instance.state'), n)
        dec = timed(lambda: ring.decrypt(sealed, 'process_instance.state'), n)
        print(f'state {size:>7,} B: encrypt {enc:7.1f} µs, decrypt {dec:7.1f} µs, '
              f'stored {len(sealed):>7,} B (+{len(sealed) / len(text) - 1:.0%})')
    print(f'id hash: {timed(lambda: ring.id_hash("11010519491231002X"), 5000):.1f} µs')


if __name__ == '__main__':
    main()
