"""`python -m service.scenarios [--json] PATH...`: what the deploy preview runs in a child process."""
from .cli import test_processes_command

test_processes_command(prog_name='python -m service.scenarios')
