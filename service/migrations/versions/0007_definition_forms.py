"""Forms stored with each definition version; previewed uploads (only a previewed upload deploys).

Existing versions get the forms their diagrams name, read from forms/ at the upgrade
(JIUZHU_FORMS_DIR, else the project's forms/): that is what their running cases used until now.
Their digest then covers those forms, as a deploy from now on computes it, so an unchanged
`jiuzhu deploy` after the upgrade still finds every version unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 19:50:00
"""
import hashlib
import json
import os
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from lxml import etree

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Frozen copies of what the code did when this revision was written (services/bundles.py,
# services/repository.py): a migration must not change when that code does.
_SPIFF = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
_FORM_PROPERTIES = ('formJsonSchemaFilename', 'formUiSchemaFilename', 'startForm')


def _forms_dir():
    try:
        from flask import current_app
        return Path(current_app.config['JIUZHU_FORMS_DIR'])
    except (RuntimeError, KeyError):
        return Path(os.environ.get('JIUZHU_FORMS_DIR') or Path(__file__).resolve().parents[3] / 'forms')


def _form_names(sources):
    names = set()
    for source in sources:
        try:
            root = etree.fromstring(source.encode('utf-8'), parser=etree.XMLParser(resolve_entities=False,
                                                                                   no_network=True))
        except etree.XMLSyntaxError:
            continue
        for prop in root.iter(f'{{{_SPIFF}}}property'):
            value = (prop.get('value') or '').strip()
            if prop.get('name') in _FORM_PROPERTIES and value:
                names.add(value)
    for name in list(names):
        if name.endswith('.schema.json'):
            names.add(name[:-len('.schema.json')] + '.uischema.json')
    return names


def _digest(spec_json, source, dependency_sources, forms):
    h = hashlib.sha256(spec_json.encode())
    for part in (source, *dependency_sources):
        h.update(b'\0')
        h.update(part)
    for name in sorted(forms):
        h.update(b'\0form\0' + name.encode() + b'\0' + forms[name].encode())
    return h.hexdigest()


def upgrade():
    op.create_table('deploy_preview',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('upload_sha256', sa.String(length=64), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deploy_preview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deploy_preview_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forms', sa.JSON(), nullable=True))

    table = sa.table('process_definition', sa.column('id', sa.Integer), sa.column('sha256', sa.String),
                     sa.column('source', sa.Text), sa.column('dependencies', sa.JSON),
                     sa.column('spec_json', sa.Text), sa.column('forms', sa.JSON))
    connection = op.get_bind()
    folder = _forms_dir()
    rows = connection.execute(sa.select(table.c.id, table.c.source, table.c.dependencies,
                                        table.c.spec_json).order_by(table.c.id)).all()
    for row in rows:
        dependencies = row.dependencies or {}
        if isinstance(dependencies, str):
            dependencies = json.loads(dependencies)
        names = _form_names([row.source] + [text for name, text in dependencies.items() if name.endswith('.bpmn')])
        forms = {}
        for name in sorted(names):
            path = folder / name
            if '/' not in name and '\\' not in name and path.is_file():
                forms[name] = path.read_text(encoding='utf-8')
        digest = _digest(row.spec_json, row.source.encode('utf-8'),
                         [dependencies[name].encode('utf-8') for name in sorted(dependencies)], forms)
        connection.execute(table.update().where(table.c.id == row.id).values(forms=forms, sha256=digest))


def downgrade():
    # The digests stay as computed with the forms: a later deploy makes new versions once, no harm.
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_column('forms')

    with op.batch_alter_table('deploy_preview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deploy_preview_created_at'))

    op.drop_table('deploy_preview')
