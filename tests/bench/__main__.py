"""`make bench`: run every benchmark module here (each prints its own figures)."""
import importlib
import pkgutil
import sys

import tests.bench as package


def main():
    status = 0
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith('bench_'):
            continue
        print(f'== {info.name}', flush=True)
        module = importlib.import_module(f'{package.__name__}.{info.name}')
        status |= module.main([]) or 0
        print(flush=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
