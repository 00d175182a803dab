"""Repository service: validate and deploy definitions, one version per content change.

A version is its diagram, the diagrams and decision tables it calls, and its form files: all
stored with the version, so running cases keep them whatever is deployed later.
"""
import hashlib
import io
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from ..engine.parser import DefinitionError, parse_files
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import ProcessDefinition
from . import audit, bundles
from .context import engine, now

SUFFIXES = bundles.DIAGRAM_SUFFIXES


def read_tree(root):
    root = Path(root)
    return {str(p.relative_to(root).as_posix()): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.suffix in SUFFIXES and p.is_file()}


def read_forms(folder):
    folder = Path(folder)
    return {p.name: p.read_text(encoding='utf-8') for p in sorted(folder.glob('*.json')) if p.is_file()}


def _invalid(problems):
    return Invalid('流程定义有误 (invalid process definition)',
                   details=[{'file': p.file, 'line': p.line, 'element': p.element, 'message': p.message}
                            for p in problems], code='invalid_definition')


def parse(files, forms=None):
    """Parse {path: bytes}; form files are checked against `forms` ({name: text}) or forms/."""
    eng = engine()
    try:
        if forms is None:
            return parse_files(files, eng.lanes, eng.forms_dir)
        # The parser looks form files up in a folder: give it exactly the bundle's forms.
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / 'forms'
            folder.mkdir()
            for name, text in forms.items():
                (folder / name).write_text(text, encoding='utf-8')
            return parse_files(files, eng.lanes, folder)
    except DefinitionError as exc:
        raise _invalid(exc.problems) from None


def _digest(spec_json, source, dependency_sources, forms):
    """The version identity: the executable spec, the files themselves and the forms.

    The spec alone misses process-level properties the service reads from the source (the start
    form, category, variant): changing one of them must make a new version, as any change does.
    (Migration 0007 has a frozen copy: change both or neither.)
    """
    h = hashlib.sha256(spec_json.encode())
    for part in (source, *dependency_sources):
        h.update(b'\0')
        h.update(part)
    for name in sorted(forms):
        h.update(b'\0form\0' + name.encode() + b'\0' + forms[name].encode())
    return h.hexdigest()


@dataclass
class Candidate:
    """One process of a bundle: what it would deploy as, next to the version deployed now."""
    key: str
    proc: object
    spec_json: str
    digest: str
    forms: dict
    dependencies: dict
    existing: ProcessDefinition | None      # the version in force, when it has exactly this content
    latest: ProcessDefinition | None        # the newest deployed version of this key


class Deployed(list):
    """[(definition, is_new)] of a deploy, and the validation `warnings` (parser.Problem) noted on the way."""

    def __init__(self, results=(), warnings=()):
        super().__init__(results)
        self.warnings = list(warnings)


@dataclass
class Plan:
    candidates: list = field(default_factory=list)
    warnings: list = field(default_factory=list)         # parser.Problem noted in the planned processes' files
    written: list = field(default_factory=list)          # diagram paths the upload wrote
    changed_forms: list = field(default_factory=list)    # uploaded forms that differ from the deployed ones


def _latest_rows():
    newest = {}
    for row in db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                     ProcessDefinition.version)):
        newest[row.key] = row
    return newest


def plan(files, forms, keys=None, only_files=None, parsed=None):
    """What deploying `files` ({path: bytes}) with `forms` would do, for the processes in `keys`
    (or defined in `only_files`; all when neither is given)."""
    parsed = parse(files, forms) if parsed is None else parsed
    eng = engine()
    latest = _latest_rows()
    all_forms = forms if forms is not None else read_forms(eng.forms_dir)
    result = Plan()
    for key, proc in sorted(parsed.items()):
        if (keys is not None and key not in keys) or (only_files is not None and proc.file not in only_files):
            continue
        spec_json = eng.serializer.dump_spec(proc.spec, proc.subprocess_specs)
        deps = {name: files[name] for name in proc.dependencies if name in files}
        texts = [proc.source.decode('utf-8')] + [deps[n].decode('utf-8') for n in deps if n.endswith('.bpmn')]
        used = bundles.forms_of(texts, all_forms)
        digest = _digest(spec_json, proc.source, list(deps.values()), used)
        # Unchanged only against the version in force: an older version's content deployed again is a
        # rollback, and becomes the newest version (new cases start on it).
        in_force = latest.get(key)
        existing = in_force if in_force is not None and in_force.sha256 == digest else None
        result.candidates.append(Candidate(key, proc, spec_json, digest, used, deps, existing, in_force))
    planned = {c.proc.file for c in result.candidates} | set(only_files or ())
    result.warnings = [w for w in parsed.warnings if w.file in planned]
    return result


def apply(the_plan, actor):
    """Write the new versions of a plan; returns Deployed [(definition, is_new)] with the plan's warnings."""
    results = Deployed(warnings=the_plan.warnings)
    for c in the_plan.candidates:
        if c.existing is not None:
            results.append((c.existing, False))
            continue
        proc = c.proc
        version = (db.session.scalar(select(func.max(ProcessDefinition.version))
                                     .where(ProcessDefinition.key == c.key)) or 0) + 1
        definition = ProcessDefinition(
            key=c.key, name=proc.name or c.key, version=version, sha256=c.digest, category=proc.category,
            variant=proc.variant, file=proc.file, source=proc.source.decode('utf-8'),
            dependencies={name: data.decode('utf-8') for name, data in c.dependencies.items()},
            spec_json=c.spec_json, forms=c.forms, deployed_at=now(), deployed_by=actor)
        db.session.add(definition)
        db.session.flush()
        audit.record(actor, 'deploy', definition=c.key, version=version, sha256=c.digest, file=proc.file,
                     forms=sorted(c.forms))
        results.append((definition, True))
    db.session.commit()
    return results


def deploy(files, actor, only=None, forms=None):
    """Deploy every executable process in `files` ({name: bytes}); returns Deployed [(definition, is_new)].

    Unchanged processes keep their version; `only` names the files whose processes the caller
    meant to deploy (the others in `files` are there to resolve call activities and decisions).
    Forms come from `forms` ({name: text}) or else from forms/.
    """
    return apply(plan(files, forms, only_files=only), actor)


def deploy_directory(root, actor):
    return deploy(read_tree(root), actor)


# ------------------------------------------------------------------ bundles (web and API uploads)

def current_bundle(root, rows):
    """({path: text}, {form: text}) deployed now: processes/ and forms/ on disk, overlaid by the
    files of each process's newest version (a web deploy changes nothing on disk)."""
    tree = {path: data.decode('utf-8') for path, data in read_tree(root).items()}
    forms = read_forms(engine().forms_dir)
    for row in sorted(rows, key=lambda d: d.id):
        tree[row.file] = row.source
        tree.update(row.dependencies or {})
        forms.update(row.forms or {})
    return tree, forms


def bundle_plan(root, files):
    """The plan for an upload ({path: text}, normalized): the uploaded diagrams' processes, and
    every deployed process that uses an uploaded diagram, decision table or form.

    Only what those need is parsed (a file elsewhere in the tree that is mid-edit blocks nothing).
    """
    diagrams, new_forms = bundles.split(files)
    rows = db.session.scalars(select(ProcessDefinition).options(
        undefer(ProcessDefinition.source), undefer(ProcessDefinition.dependencies), undefer(ProcessDefinition.forms))
        .order_by(ProcessDefinition.key, ProcessDefinition.version)).all()
    rows = list({row.key: row for row in rows}.values())        # the newest version of each key
    tree, forms = current_bundle(root, rows)
    written = bundles.place(tree, diagrams)
    changed_forms = {n for n, text in new_forms.items() if forms.get(n) != text}
    forms.update(new_forms)

    def uses(row):
        used = set(row.forms) if row.forms is not None else bundles.form_names([row.source])
        return row.file in written or bool(set(row.dependencies or {}) & written) or bool(used & set(new_forms))
    affected = {row.key for row in rows if uses(row)}
    seeds = written | {row.file for row in rows if row.key in affected}
    data = {path: tree[path].encode('utf-8') for path in bundles.needed_files(tree, seeds)}
    parsed = parse(data, forms)
    keys = {key for key, proc in parsed.items() if proc.file in written or key in affected}
    result = plan(data, forms, keys, parsed=parsed)
    result.written, result.changed_forms = sorted(written), sorted(changed_forms)
    return result


# ------------------------------------------------------------------ reading

def latest(key):
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                   .order_by(ProcessDefinition.version.desc()).limit(1))
    if definition is None:
        raise NotFound(f'没有已部署的流程 {key} (no deployed process)', code='definition_not_found')
    return definition


def get(definition_id):
    row = db.session.get(ProcessDefinition, definition_id)
    if row is None:
        raise NotFound(f'没有这个流程版本 (no definition {definition_id})', code='definition_not_found')
    return row


def files_of(definition):
    """{path in the bundle: text} of a version as deployed: its diagram, what it calls, its forms."""
    out = {definition.file: definition.source}
    out.update(definition.dependencies or {})
    forms = definition.forms
    if forms is None:       # deployed before forms were kept, and not found at the upgrade
        forms = {}
    out.update({f'forms/{name}': text for name, text in forms.items()})
    return out


def zip_of(definition):
    """(zip bytes, file name) of a version's files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(files_of(definition).items()):
            archive.writestr(path, text.encode('utf-8'))
    return buffer.getvalue(), f'{definition.key}-v{definition.version}.zip'


def list_definitions(latest_only=False):
    rows = db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                 ProcessDefinition.version)).all()
    if latest_only:
        newest = {}
        for row in rows:
            newest[row.key] = row
        rows = list(newest.values())
    return rows


def processes_dir():
    return current_app.config.get('JIUZHU_PROCESSES_DIR') or Path(__file__).resolve().parents[2] / 'processes'
