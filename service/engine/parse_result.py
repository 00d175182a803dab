"""What parsing definitions gives back: the parsed processes, or the problems that refuse them."""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element: str | None
    message: str

    def __str__(self):
        return f"{self.file}:{self.line or '?'}: {self.element or '-'}: {self.message}"

    def as_dict(self):
        return {'file': self.file, 'line': self.line, 'element': self.element, 'message': self.message}


class DefinitionError(Exception):
    """The definitions are refused: `problems` say why; `warnings` are what would only be noted."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] = ()):
        self.problems = list(problems)
        self.warnings = list(warnings)
        super().__init__('\n'.join(str(p) for p in self.problems))


class ParseResult(dict):
    """{process id: ParsedProcess} of the executable processes, and the `warnings` (Problems) noted
    on the way: things that run, but perhaps not as the designer meant (a message whose data is
    dropped, an extension element nothing reads)."""

    def __init__(self, parsed=(), warnings=()):
        super().__init__(parsed)
        self.warnings = list(warnings)


@dataclass
class ParsedProcess:
    key: str
    name: str
    category: str | None
    variant: str | None
    file: str
    source: bytes
    spec: BpmnProcessSpec
    subprocess_specs: dict
    dependencies: list[str] = field(default_factory=list)
