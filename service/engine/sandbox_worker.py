"""The sandbox worker: a separate process that runs diagram code for the service, one evaluation at a time.

Started by sandbox_pool.py as ``python -I -c ...`` with an empty environment (no database URL,
no secret key) and this directory on ``sys.path``; it never imports the ``service`` package.

Protocol (pickle frames over stdin/stdout, see sandbox_policy.send_frame):
  worker -> service  ('ready',)                             once, when it has started
  service -> worker  ('run', mode, source, context, external, values, remote_names, limits tuple, seconds,
                      timeout message)
  worker -> service  ('call', name, args, kwargs)          a service function, answered by
  service -> worker  ('return', value) | ('raise', type name, message)
  worker -> service  ('ok', value, usage) | ('error', kind, type name, args, lineno, name, usage)

Each evaluation runs with an address-space limit (memory it may still allocate) and a line
trace (steps, deadline, and the current line written to a memory page the service shares, so
that a kill during a long C call still names the line).
"""
import builtins
import mmap
import os
import pickle
import resource
import sys
import time
import traceback

try:
    from . import sandbox_guards as guards
    from . import sandbox_policy as policy
    from .sandbox_values import value_problem
except ImportError:   # the normal case: started as a top-level script
    import sandbox_guards as guards
    import sandbox_policy as policy
    from sandbox_values import value_problem

IN, OUT = 0, 1
MAX_REQUEST = 1 << 30


class _Trace:
    """Counts the lines diagram code executes and stops it at the step limit or the deadline."""

    def __init__(self, line_page, limits, seconds, timeout_message):
        self.line_page = line_page
        self.max_steps = limits.max_steps
        self.timeout_message = timeout_message
        self.deadline = time.monotonic() + seconds
        self.steps = 0

    def __enter__(self):
        sys.settrace(self._call)
        return self

    def __exit__(self, *exc):
        sys.settrace(None)
        return False

    def _call(self, frame, event, arg):
        return self._line if frame.f_code.co_filename == policy.FILENAME else None

    def _line(self, frame, event, arg):
        if event == 'line':
            self.line_page[0] = frame.f_lineno
            self.steps += 1
            if self.steps > self.max_steps:
                raise policy.ScriptRejected(
                    f'diagram code ran too long (more than {self.max_steps:,} steps; 脚本运行步数过多，可能是死循环)',
                    frame.f_lineno)
            if self.steps & 15 == 0 and time.monotonic() > self.deadline:
                raise policy.ScriptRejected(self.timeout_message, frame.f_lineno)
        return self._line


class _Remote:
    """A service function, called over the pipe (the clock and calendar live in the service)."""
    __slots__ = ('_name', '_worker')

    def __init__(self, name, worker):
        self._name = name
        self._worker = worker

    def __call__(self, *args, **kwargs):
        return self._worker.call(self._name, args, kwargs)


class _MemoryLimit:
    """Lets the evaluation allocate at most ``max_memory`` beyond what the worker holds now."""

    def __init__(self, statm_fd, max_memory):
        size = int(os.pread(statm_fd, 64, 0).split()[0]) * resource.getpagesize()
        self.limit = size + max_memory

    def __enter__(self):
        resource.setrlimit(resource.RLIMIT_AS, (self.limit, resource.RLIM_INFINITY))

    def __exit__(self, *exc):
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        return False


def _line_of(exc):
    if isinstance(exc, policy.ScriptRejected) and exc.lineno:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == policy.FILENAME:
            line = frame.lineno
    return line


def _plain_args(exc):
    args = exc.args
    if all(isinstance(a, (str, int, float, bool, type(None))) for a in args) and len(repr(args)) < 2000:
        return args
    return (str(exc)[:2000],)


def _cleanup(context, names):
    """What SpiffWorkflow's TaskDataEnvironment removes after a script: its globals and callables."""
    for key in list(context):
        if key == '__builtins__' or key in names or callable(context[key]) or key == '_print':
            context.pop(key)


class Worker:
    def __init__(self, line_fd):
        self.line_map = mmap.mmap(line_fd, 8)
        self.line_page = memoryview(self.line_map).cast('i')
        self.statm = os.open('/proc/self/statm', os.O_RDONLY)
        self.status = os.open('/proc/self/status', os.O_RDONLY)

    def send(self, message):
        policy.send_frame(OUT, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def receive(self):
        return pickle.loads(policy.recv_frame(IN, MAX_REQUEST))

    def call(self, name, args, kwargs):
        self.send(('call', name, args, kwargs))
        answer = self.receive()
        if answer[0] == 'return':
            return answer[1]
        exc_type = getattr(builtins, answer[1], None)
        if not (isinstance(exc_type, type) and issubclass(exc_type, Exception)):
            exc_type = RuntimeError
        raise exc_type(answer[2])

    def usage(self):
        # VmHWM, not ru_maxrss: the latter keeps the service's size from before exec.
        status = os.pread(self.status, 4096, 0)
        start = status.find(b'VmHWM:')
        peak = int(status[start + 6:status.find(b'kB', start)]) if start >= 0 else 0
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {'maxrss_kb': peak, 'cpu': ru.ru_utime + ru.ru_stime}

    def run(self, mode, source, context, external, values, remote_names, limits, seconds, timeout_message):
        limits = policy.Limits(*limits)
        self.max_memory = limits.max_memory
        guards.Settings.max_bytes = limits.max_bytes
        self.line_page[0] = 0
        compiled = policy.compile_prepared(source, mode)
        scope_globals = dict(values)
        scope_globals.update({name: _Remote(name, self) for name in remote_names})
        scope_globals.update(external)
        if mode == 'eval':
            scope = scope_globals
            scope.update(context)
        else:
            scope = context
            scope.update(scope_globals)
        scope['__builtins__'] = guards.SAFE_BUILTINS
        with _MemoryLimit(self.statm, limits.max_memory), _Trace(self.line_page, limits, seconds, timeout_message):
            result = eval(compiled.code, scope) if mode == 'eval' else exec(compiled.code, scope)
        if mode == 'eval':
            problem = value_problem(result, limits.max_bytes)
            if problem:
                raise policy.ScriptRejected(f'表达式的结果无法使用 (the result cannot be used): {problem}', 1)
            return result
        _cleanup(context, set(scope_globals))
        for name, value in context.items():
            problem = value_problem(value, limits.max_bytes)
            if problem:
                line = compiled.assign_lines.get(name) or max(1, source.count('\n') + 1)
                raise policy.ScriptRejected(f'变量 {name} 无法保存 (variable "{name}" cannot be kept): {problem}', line)
        return context

    def serve(self):
        while True:
            try:
                frame = policy.recv_frame(IN, MAX_REQUEST)
            except policy.WireClosed:
                return
            self.max_memory = None
            try:
                request = pickle.loads(frame)
                frame = None
                result = self.run(*request[1:])
            except BaseException as exc:   # also SystemExit and KeyboardInterrupt raised by diagram code
                self.send(self._error(exc) + (self.usage(),))
                continue
            try:
                self.send(('ok', result, self.usage()))
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                self.send(('error', 'rejected', 'ScriptRejected',
                           (f'结果无法传回 (the result cannot be handed back): {exc}',), None, None, self.usage()))

    def _error(self, exc):
        kind = 'rejected' if isinstance(exc, policy.ScriptRejected) else 'raised'
        message = exc.message if kind == 'rejected' else None
        if isinstance(exc, MemoryError):
            kind, message = 'rejected', (f'diagram code needed more memory than allowed ({self.max_memory or 0:,} '
                                         f'bytes; 脚本占用内存过多)')
        return ('error', kind, type(exc).__name__, (message,) if message else _plain_args(exc), _line_of(exc),
                getattr(exc, 'name', None) if isinstance(exc, NameError) else None)


def main(line_fd):
    # No files, no core dumps; the service's limits do the rest.
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.set_int_max_str_digits(4300)
    sys.setrecursionlimit(500)
    worker = Worker(line_fd)
    worker.send(('ready',))
    worker.serve()
