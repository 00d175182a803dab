"""Sandbox worker processes, from the service's side: start them, lend one to an evaluation, kill it.

A worker serves one evaluation at a time; each thread that evaluates takes an idle worker or
starts one.  A worker that overruns its time is killed (SIGKILL: nothing in it can delay that)
and the line it was on is read from a memory page it shares with the service.  What comes back
is unpickled with a loader that knows only case-data types, so even a worker whose sandbox were
broken could not make the service construct anything else.
"""
from __future__ import annotations

import atexit
import io
import logging
import mmap
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

from .sandbox_policy import WireClosed, WireTimeout, recv_frame, send_frame

__all__ = ['POOL', 'WorkerAnswerRefused', 'WorkerDied', 'WorkerTimeout', 'run']

log = logging.getLogger('jiuzhu.sandbox')

ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
_BOOT = ('import sys; sys.path.insert(0, sys.argv[1]); import sandbox_worker; '
         'sandbox_worker.main(int(sys.argv[2]))')
# The worker inherits nothing: no database URL, no secret key.
_ENV = {'PATH': os.defpath, 'LC_ALL': 'C.UTF-8'}
# After its deadline a worker gets this long to refuse by itself (its trace names the exact line)
# before it is killed.
GRACE = 0.5
STARTUP_SECONDS = 60        # a loaded machine may take long to start Python; not the diagram's time
RECYCLE_CPU_SECONDS = 300
RECYCLE_EVALUATIONS = 100_000


class WorkerTimeout(Exception):
    def __init__(self, lineno, startup=0.0):
        super().__init__(lineno)
        self.lineno = lineno
        self.startup = startup


class WorkerDied(WorkerTimeout):
    pass


class WorkerAnswerRefused(WorkerTimeout):
    """The worker answered with something that is not case data."""


class _CaseDataUnpickler(pickle.Unpickler):
    # Containers and scalars have their own pickle opcodes; these are the only classes case data uses.
    ALLOWED = frozenset({
        ('datetime', 'datetime'), ('datetime', 'date'), ('datetime', 'time'), ('datetime', 'timedelta'),
        ('datetime', 'timezone'), ('uuid', 'UUID'), ('uuid', 'SafeUUID'),
    })

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'{module}.{name} is not case data')


def loads(data: bytes):
    return _CaseDataUnpickler(io.BytesIO(data)).load()


def _line_page():
    if hasattr(os, 'memfd_create'):
        fd = os.memfd_create('jiuzhu-sandbox-line')
    else:   # pragma: no cover - Linux has memfd
        import tempfile
        fd = os.dup(tempfile.TemporaryFile().fileno())
    os.ftruncate(fd, 8)
    return fd


class Worker:
    def __init__(self):
        fd = _line_page()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, '-I', '-c', _BOOT, ENGINE_DIR, str(fd)], bufsize=0,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                pass_fds=(fd,), env=_ENV, cwd='/')
            self.line_map = mmap.mmap(fd, 8)
        finally:
            os.close(fd)
        self.line_page = memoryview(self.line_map).cast('i')
        self.evaluations = 0
        self.cpu = 0.0
        try:
            ready = self.receive(time.monotonic() + STARTUP_SECONDS, 1024)
        except (WireClosed, WireTimeout, OSError, EOFError, pickle.UnpicklingError):
            ready = None
        if ready != ('ready',):
            self.kill()
            log.error('the sandbox worker did not start (%s -I, exit code %s): diagram code cannot run',
                      sys.executable, self.proc.returncode)
            raise WorkerDied(None)

    def send(self, message):
        self.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def send_bytes(self, payload):
        send_frame(self.proc.stdin.fileno(), payload)

    def receive(self, deadline, max_size):
        return loads(recv_frame(self.proc.stdout.fileno(), max_size, deadline))

    def line(self):
        return self.line_page[0] or None

    def alive(self):
        return self.proc.poll() is None

    def peak_rss_kb(self):
        try:
            with open(f'/proc/{self.proc.pid}/status', encoding='ascii') as status:
                for row in status:
                    if row.startswith('VmHWM:'):
                        return int(row.split()[1])
        except OSError:
            pass
        return 0

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._close_files()

    def close(self):
        """Let an idle worker end by itself (it exits when its input closes)."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        self._close_files()

    def _close_files(self):
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.line_page.release()
            self.line_map.close()
        except (BufferError, ValueError):
            pass


class Pool:
    def __init__(self, max_idle=4):
        self.max_idle = max_idle
        self.lock = threading.Lock()
        self.idle: list[Worker] = []
        self.pid = os.getpid()
        self.stats = {'started': 0, 'killed': 0, 'evaluations': 0, 'peak_rss_kb': 0}

    def checkout(self) -> Worker:
        with self.lock:
            if self.pid != os.getpid():
                # A forked child must not share its parent's workers (their pipes are shared).
                self.idle, self.pid = [], os.getpid()
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    return worker
            self.stats['started'] += 1
        return Worker()

    def checkin(self, worker: Worker):
        if (worker.alive() and worker.cpu < RECYCLE_CPU_SECONDS and worker.evaluations < RECYCLE_EVALUATIONS
                and os.getpid() == self.pid):
            with self.lock:
                if len(self.idle) < self.max_idle:
                    self.idle.append(worker)
                    return
        worker.close()

    def discard(self, worker: Worker):
        with self.lock:
            self.stats['killed'] += 1
            self.stats['peak_rss_kb'] = max(self.stats['peak_rss_kb'], worker.peak_rss_kb())
        worker.kill()

    def note(self, worker: Worker, usage):
        worker.evaluations += 1
        worker.cpu = usage.get('cpu', 0.0)
        with self.lock:
            self.stats['evaluations'] += 1
            self.stats['peak_rss_kb'] = max(self.stats['peak_rss_kb'], usage.get('maxrss_kb', 0))

    def shutdown(self):
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.close()


POOL = Pool()
atexit.register(POOL.shutdown)


def _call(functions, name, args, kwargs):
    """A service function the diagram code called; its answer goes back to the worker."""
    func = functions.get(name)
    if func is None:
        return ('raise', 'NameError', f'name {name!r} is not defined')
    try:
        value = func(*args, **kwargs)
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:   # the diagram sees the function's error, as it would in-process
        return ('raise', type(exc).__name__, str(exc))
    return ('return', value)


def run(request: bytes, functions, seconds, max_bytes):
    """Run one pickled request in a worker: (the worker's final message, seconds spent starting a worker).

    Raises WorkerTimeout when the worker had to be killed after ``seconds`` (+ GRACE), WorkerDied
    when it ended by itself or sent something that is not an answer.
    """
    started = time.monotonic()
    worker = POOL.checkout()
    startup = time.monotonic() - started
    keep = False
    try:
        try:
            worker.send_bytes(request)
            deadline = time.monotonic() + seconds + GRACE
            max_size = 4 * max_bytes + (1 << 20)
            while True:
                message = worker.receive(deadline, max_size)
                if message[0] == 'call':
                    worker.send(_call(functions, *message[1:]))
                    continue
                POOL.note(worker, message[-1])
                # After a MemoryError the worker may hold fragments of what it tried: start afresh.
                keep = not (message[0] == 'error' and message[2] == 'MemoryError')
                return message, startup
        except WireTimeout:
            raise WorkerTimeout(worker.line(), startup) from None
        except pickle.UnpicklingError:
            raise WorkerAnswerRefused(worker.line(), startup) from None
        except (WireClosed, OSError, EOFError, ValueError, TypeError, IndexError):
            raise WorkerDied(worker.line(), startup) from None
    finally:
        if keep:
            POOL.checkin(worker)
        else:
            POOL.discard(worker)
