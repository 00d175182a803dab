"""What a deploy is made of: the uploaded bundle, placed into the tree of what is deployed now.

A bundle is a process folder or a set of files: `.bpmn`, `.dmn` and form files (`forms/*.json`),
uploaded one by one (the multipart file name may carry the folder: `delegated/temporary_aid.bpmn`)
or as a `.zip` of a folder. An uploaded diagram replaces the tree's file at the same path, else the
file that defines the same process (or decision) ids, else it is a new file; base names decide
nothing, so `delegated/temporary_aid.bpmn` and `legacy/temporary_aid.bpmn` stay apart.
"""
import hashlib
import io
import json
import zipfile
from pathlib import PurePosixPath

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from ..errors import Invalid

DIAGRAM_SUFFIXES = ('.bpmn', '.dmn')
MAX_FILES = 200
MAX_BYTES = 16 * 1024 * 1024        # uncompressed, all files together (a zip may not unpack past it)
SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
FORM_PROPERTIES = ('formJsonSchemaFilename', 'formUiSchemaFilename', 'startForm', 'extensionForm')
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _problem(name, message):
    return {'file': name, 'line': None, 'element': None, 'message': message}


def _refuse(message, problems):
    raise Invalid(message, details=problems, code='invalid_definition')


def clean_path(name):
    """A relative POSIX path of an upload without a leading `processes/`; '' for what a zip tool
    adds by itself (`__MACOSX/`, dot files), which is skipped; None if unusable (`..`)."""
    parts = [p for p in (name or '').replace('\\', '/').split('/') if p not in ('', '.')]
    if any(p.startswith('.') and p != '..' or p == '__MACOSX' for p in parts):
        return ''
    if not parts or '..' in parts:
        return None
    if parts[0] == 'processes' and len(parts) > 1:
        parts = parts[1:]
    return '/'.join(parts)


def _unzip(name, data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_BYTES:
            _refuse('压缩包过大 (zip too large)', [_problem(name, f'最多 {MAX_FILES} 个文件、共 16 MB')])
        return [(m.filename, archive.read(m)) for m in members]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        _refuse('压缩包无法读取 (unreadable zip)', [_problem(name, f'不是有效的 zip 文件：{exc}')])


def normalize(uploads):
    """[(file name, bytes)] as uploaded -> {path: text}, zips unpacked; 422 for what cannot be used."""
    out, problems = {}, []
    expanded = []
    for name, data in uploads:
        if (name or '').lower().endswith('.zip'):
            # A zipped processes/ folder also holds README.md and lanes.json (server settings): skip them.
            expanded.extend((n, d) for n, d in _unzip(name, data)
                            if n.lower().endswith(DIAGRAM_SUFFIXES + ('.json',)) and not n.endswith('lanes.json'))
        else:
            expanded.append((name, data))
    for name, data in expanded:
        path = clean_path(name)
        if path == '':
            continue
        if path is None:
            problems.append(_problem(name or '?', '文件路径无效 (invalid path)'))
            continue
        if not path.lower().endswith(DIAGRAM_SUFFIXES + ('.json',)):
            problems.append(_problem(path, '文件类型应为 .bpmn、.dmn、表单 .json 或 .zip (unsupported file type)'))
            continue
        try:
            out[path] = data.decode('utf-8-sig') if path.endswith('.json') else data.decode('utf-8')
        except UnicodeDecodeError:
            problems.append(_problem(path, '文件应为 UTF-8 编码 (file is not UTF-8)'))
    if problems:
        _refuse('上传的文件有误 (unusable upload)', problems)
    if not out:
        _refuse('上传中没有流程、决策表或表单文件 (nothing to deploy in the upload)',
                [_problem('', '请上传 .bpmn、.dmn、表单 .json 文件或它们所在文件夹的 .zip')])
    if len(out) > MAX_FILES:
        _refuse(f'一次最多上传 {MAX_FILES} 个文件 (too many files)', [_problem('', f'共 {len(out)} 个文件')])
    return out


def upload_digest(files):
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b'\0' + files[path].encode() + b'\0')
    return h.hexdigest()


def split(files):
    """{path: text} -> (diagrams {path: text}, forms {form file name: text}); forms/ is flat."""
    diagrams, forms, problems = {}, {}, []
    for path, text in files.items():
        if path.endswith('.scenarios.json'):
            continue        # a diagram's scenarios (services/scenario_preview.py), not a form
        if path.lower().endswith('.json'):
            name = PurePosixPath(path).name
            problem = form_problem(name, text)
            if problem:
                problems.append(_problem(path, problem))
            forms[name] = text
        else:
            diagrams[path] = text
    if problems:
        _refuse('表单文件有误 (invalid form file)', problems)
    return diagrams, forms


def form_problem(name, text):
    try:
        content = json.loads(text)
    except ValueError as exc:
        return f'不是有效的 JSON (not JSON): {exc}'
    if not isinstance(content, dict):
        return '表单文件应为 JSON 对象 (a form file is a JSON object)'
    if name.endswith('.schema.json'):
        try:
            Draft202012Validator.check_schema(content)
        except SchemaError as exc:
            return f'不是有效的 JSON Schema (invalid JSON Schema): {exc.message}'
    return None


def _root(text):
    try:
        return etree.fromstring(text.encode('utf-8'), parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None


def defined_ids(text):
    """The process ids (BPMN) or decision ids (DMN) a diagram defines."""
    root = _root(text)
    if root is None:
        return set()
    return {el.get('id') for el in root if isinstance(el.tag, str) and el.get('id')
            and etree.QName(el).localname in ('process', 'decision')}


def place(tree, diagrams):
    """Put uploaded diagrams into `tree` ({path: text}, changed in place); returns the paths written."""
    owners = {}
    for path, text in tree.items():
        for ident in defined_ids(text):
            owners.setdefault(ident, set()).add(path)
    written = set()
    for path, text in sorted(diagrams.items()):
        target = path
        if path not in tree:
            hits = set().union(*[owners.get(i, set()) for i in defined_ids(text)] or [set()])
            if len(hits) == 1:
                target = hits.pop()
        tree[target] = text
        written.add(target)
    return written


def needed_files(tree, seeds):
    """The paths of `tree` a parse of `seeds` needs: the seeds, every decision table, the files of
    the processes they call (transitively) and any other file defining one of their process ids
    (so a duplicate is reported, not hidden)."""
    owners = {}
    for path, text in tree.items():
        for ident in defined_ids(text):
            owners.setdefault(ident, set()).add(path)
    needed = set(seeds) | {p for p in tree if p.endswith('.dmn')}
    for path in seeds:
        for ident in defined_ids(tree[path]):
            needed |= owners.get(ident, set())
    todo = list(needed)
    while todo:
        root = _root(tree[todo.pop()])
        if root is None:
            continue
        for el in root.iter(f'{{{BPMN_NS}}}callActivity'):
            for path in owners.get((el.get('calledElement') or '').strip(), ()):
                if path not in needed:
                    needed.add(path)
                    todo.append(path)
    return needed


def form_names(sources):
    """Form file names the diagrams name (task forms, UI schemas, start forms, their UI schemas)."""
    names = set()
    for text in sources:
        root = _root(text)
        if root is None:
            continue
        for prop in root.iter(f'{{{SPIFF_NS}}}property'):
            value = (prop.get('value') or '').strip()
            if prop.get('name') in FORM_PROPERTIES and value:
                names.add(value)
    for name in list(names):
        if name.endswith('.schema.json'):
            names.add(name[:-len('.schema.json')] + '.uischema.json')   # the forms/ naming convention
    return names


def forms_of(process_files, all_forms):
    """{name: text} of the forms the given diagram texts use, as found in `all_forms`."""
    return {name: all_forms[name] for name in sorted(form_names(process_files)) if name in all_forms}
