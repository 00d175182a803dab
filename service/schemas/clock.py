from marshmallow import Schema, fields


class ClockSchema(Schema):
    now = fields.AwareDateTime(required=True)
    manual = fields.Boolean()
    fired = fields.Integer(allow_none=True, metadata={'description': 'timers fired by the sweep after a PUT'})
    started = fields.List(fields.String(), metadata={'description': 'calendar cases (monthly roster, payment) '
                                                                    'started after a PUT, by business key'})


class ClockSetRequest(Schema):
    now = fields.AwareDateTime(required=True, metadata={'description': 'ISO 8601 with a time zone'})
