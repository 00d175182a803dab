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
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE), metadata={
        'description': 'page number, for the first 10,000 rows (page × per_page); past them use `cursor`'})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class KeysetPageArgs(PageArgs):
    """The long lists (tasks, cases, timers): page numbers for the first rows, then a cursor."""
    cursor = fields.String(validate=validate.Length(min=1, max=500), metadata={
        'description': 'continue after the last row of a previous page: the `next` it returned (keyset paging; '
                       'not together with page)'})


def page_schema(item_schema, name, keyset=False):
    """A paginated list: {items, total, total_capped, page, per_page} (totals in the body, not in headers),
    and `next` for the lists that page by cursor."""
    fields_ = {
        'items': fields.List(fields.Nested(item_schema), required=True),
        'total': fields.Integer(required=True, metadata={
            'description': 'matching rows, counted up to 1,000: with total_capped true there are more'}),
        'total_capped': fields.Boolean(required=True, metadata={'description': 'true: total is 1,000 and more match'}),
        'page': fields.Integer(required=True),
        'per_page': fields.Integer(required=True),
    }
    if keyset:
        fields_['next'] = fields.String(required=True, allow_none=True, metadata={
            'description': 'pass as `cursor` for the next page; null on the last page'})
    return Schema.from_dict(fields_, name=name)


class MaskedDict(fields.Dict):
    """A dict whose ID and phone numbers are masked on output (lists and logs)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(mask_data(value) if value is not None else None, attr, obj, **kwargs)
