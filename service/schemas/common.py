from marshmallow import Schema, fields, validate

from ..services.masking import mask_data

# Row ids are 32-bit integers in PostgreSQL; a larger number can name no row.
MAX_ID = 2**31 - 1
# Paging bounds for every list, API and pages (web/core.py): past these the offset means nothing
# and a huge number would overflow the database's integers (a 500 instead of a clear 422).
MAX_PAGE = 100000
MAX_PER_PAGE = 100


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={'description': 'machine-readable code, e.g. not_found'})
    message = fields.String(required=True, metadata={'description': '说明（中文，附英文）'})
    details = fields.Raw(allow_none=True, metadata={'description': 'field errors {path: message}, or problems'})


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def page_schema(item_schema, name):
    """A paginated list: {items, total, page, per_page} (totals are in the body, not in headers)."""
    return Schema.from_dict({
        'items': fields.List(fields.Nested(item_schema), required=True),
        'total': fields.Integer(required=True),
        'page': fields.Integer(required=True),
        'per_page': fields.Integer(required=True),
    }, name=name)


class MaskedDict(fields.Dict):
    """A dict whose ID and phone numbers are masked on output (lists and logs)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(mask_data(value) if value is not None else None, attr, obj, **kwargs)
