"""Repository service: validate and deploy definitions, one version per content change."""
import hashlib
from pathlib import Path

from sqlalchemy import func, select

from ..engine.parser import DefinitionError, parse_files
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import ProcessDefinition
from . import audit
from .context import engine, now

SUFFIXES = ('.bpmn', '.dmn')


def read_tree(root):
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.suffix in SUFFIXES and p.is_file()}


def parse(files):
    eng = engine()
    try:
        return parse_files(files, eng.lanes, eng.forms_dir)
    except DefinitionError as exc:
        raise Invalid('流程定义有误 (invalid process definition)',
                      details=[{'file': p.file, 'line': p.line, 'element': p.element, 'message': p.message}
                               for p in exc.problems], code='invalid_definition') from None


def _digest(spec_json, source, dependency_sources):
    """The version identity: the executable spec and the files themselves.

    The spec alone misses process-level properties the service reads from the source (the start
    form, category, variant): changing one of them must make a new version, as any change does.
    """
    h = hashlib.sha256(spec_json.encode())
    for part in (source, *dependency_sources):
        h.update(b'\0')
        h.update(part)
    return h.hexdigest()


class Deployed(list):
    """[(definition, is_new)] of a deploy, and the validation `warnings` (parser.Problem) noted on the way."""

    def __init__(self, results=(), warnings=()):
        super().__init__(results)
        self.warnings = list(warnings)


def deploy(files, actor, only=None):
    """Deploy every executable process in `files` ({name: bytes}); returns Deployed [(definition, is_new)].

    Unchanged processes keep their version; `only` names the files whose processes the caller
    meant to deploy (the others in `files` are there to resolve call activities and decisions).
    """
    parsed = parse(files)
    eng = engine()
    results = Deployed(warnings=[w for w in parsed.warnings if only is None or w.file in only])
    for key, proc in sorted(parsed.items()):
        if only is not None and proc.file not in only:
            continue
        spec_json = eng.serializer.dump_spec(proc.spec, proc.subprocess_specs)
        digest = _digest(spec_json, proc.source, [files[name] for name in proc.dependencies if name in files])
        existing = db.session.scalar(select(ProcessDefinition).where(
            ProcessDefinition.key == key, ProcessDefinition.sha256 == digest))
        if existing is not None:
            results.append((existing, False))
            continue
        version = (db.session.scalar(select(func.max(ProcessDefinition.version))
                                     .where(ProcessDefinition.key == key)) or 0) + 1
        definition = ProcessDefinition(
            key=key, name=proc.name or key, version=version, sha256=digest, category=proc.category,
            variant=proc.variant, file=proc.file, source=proc.source.decode('utf-8'),
            dependencies={name: files[name].decode('utf-8') for name in proc.dependencies if name in files},
            spec_json=spec_json, deployed_at=now(), deployed_by=actor)
        db.session.add(definition)
        db.session.flush()
        audit.record(actor, 'deploy', definition=key, version=version, sha256=digest, file=proc.file)
        results.append((definition, True))
    db.session.commit()
    return results


def deploy_uploads(root, uploads, actor):
    """Deploy uploaded files ({file name: bytes}) against the deployed tree under `root`.

    An upload replaces the tree's file of the same base name (the designer edited that file);
    the other files are there only to resolve call activities and decisions.
    """
    files = read_tree(root)
    by_name = {path.rsplit('/', 1)[-1]: path for path in files}
    only = set()
    wrong = [name for name in uploads if not name.endswith(SUFFIXES)]
    if wrong:
        raise Invalid('只能上传 .bpmn / .dmn 文件 (only .bpmn and .dmn files)',
                      details=[{'file': name, 'line': None, 'element': None, 'message': '文件类型应为 .bpmn 或 .dmn'}
                               for name in wrong], code='invalid_definition')
    for name, content in uploads.items():
        name = by_name.get(name, name)
        files[name] = content
        only.add(name)
    return deploy(files, actor, only=only)


def deploy_directory(root, actor):
    return deploy(read_tree(root), actor)


def latest(key):
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                   .order_by(ProcessDefinition.version.desc()).limit(1))
    if definition is None:
        raise NotFound(f'没有已部署的流程 {key} (no deployed process)', code='definition_not_found')
    return definition


def list_definitions(latest_only=False):
    rows = db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                 ProcessDefinition.version)).all()
    if latest_only:
        newest = {}
        for row in rows:
            newest[row.key] = row
        rows = list(newest.values())
    return rows
