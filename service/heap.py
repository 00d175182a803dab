"""A server process's start-up heap, taken out of the garbage collector's way."""
import gc


def freeze_startup_heap():
    """Call once a long-running process (a gunicorn worker, the scheduler, `jiuzhu serve`) has built
    its app. What is alive then — modules, the app, its extensions — lives as long as the process,
    yet every full collection walked all of it: ≈ 110 ms per collection on this app's heap, ≈ 5 % of a
    request's CPU (tests/bench/bench_request.py). Frozen, the collector no longer looks at it.
    Not called by create_app: a test run builds hundreds of apps, and frozen objects are never freed."""
    gc.collect()
    gc.freeze()
