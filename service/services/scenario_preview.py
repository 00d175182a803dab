"""The scenarios of a deploy preview: those of the previewed diagrams, run on what would go live.

The scenario file of a diagram sits beside it (`delegated/dibao_a.scenarios.json`): taken from the
upload when it brings one, else from processes/. They run in a child process (`python -m
service.scenarios`) on a throwaway database with the candidates' diagrams, decision tables and
forms: a scenario app installs its own keyring and calendar, which must never touch this server's.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .context import engine

SUFFIX = '.scenarios.json'
# A bound, not a budget: a diagram's scenarios take seconds; a loaded machine may take many times that.
TIMEOUT_SECONDS = 300


def scenario_texts(candidates, upload, processes_dir):
    """{scenario path: text} of the candidates' diagrams (the upload's first, then processes/)."""
    texts = {}
    for candidate in candidates:
        path = candidate.proc.file[:-len('.bpmn')] + SUFFIX if candidate.proc.file.endswith('.bpmn') else None
        if path is None or path in texts:
            continue
        if path in upload:
            texts[path] = upload[path]
        elif (Path(processes_dir) / path).is_file():
            texts[path] = (Path(processes_dir) / path).read_text(encoding='utf-8')
    return texts


def _write(folder, candidates, texts):
    processes, forms = folder / 'processes', folder / 'forms'
    forms.mkdir(parents=True)
    files = {}
    for c in candidates:
        files[c.proc.file] = c.proc.source
        files.update(c.dependencies)
        for name, text in c.forms.items():
            (forms / Path(name).name).write_text(text, encoding='utf-8')
    files.update({path: text.encode('utf-8') for path, text in texts.items()})
    for path, data in files.items():
        target = processes / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    (processes / 'lanes.json').write_text(json.dumps(engine().lanes, ensure_ascii=False), encoding='utf-8')
    return processes, forms


def run(candidates, upload, processes_dir):
    """{passed, failed, results: [...], error} of the candidates' scenarios; None when there are none."""
    texts = scenario_texts(candidates, upload, processes_dir)
    if not texts:
        return None
    with tempfile.TemporaryDirectory(prefix='jiuzhu-preview-') as tmp:
        processes, forms = _write(Path(tmp), candidates, texts)
        env = dict(os.environ, JIUZHU_PROCESSES_DIR=str(processes), JIUZHU_FORMS_DIR=str(forms))
        try:
            done = subprocess.run([sys.executable, '-m', 'service.scenarios', '--json', '--no-coverage',
                                   *[str(processes / p) for p in sorted(texts)]], capture_output=True, env=env,
                                  timeout=TIMEOUT_SECONDS, cwd=tmp)
        except subprocess.TimeoutExpired:
            return {'passed': 0, 'failed': 0, 'results': [],
                    'error': f'场景运行超过 {TIMEOUT_SECONDS} 秒，已停止'}
        try:
            return json.loads(done.stdout.decode('utf-8').strip().splitlines()[-1])
        except (ValueError, IndexError):
            tail = done.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or ['']
            return {'passed': 0, 'failed': 0, 'results': [], 'error': f'场景无法运行：{tail[0]}'}
