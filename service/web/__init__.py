"""Server-rendered pages in Simplified Chinese for caseworkers, supervisors and designers.

Views are thin: they call services/ (authorization in services/access.py) and render templates.
"""
from . import fmt, people
from .core import bp, install


def init_web(app):
    from . import (views_auth, views_cases, views_clock, views_designer, views_entrustments, views_incidents,  # noqa: F401
                   views_lists, views_modeler, views_supervision, views_tasks, vendor)
    from . import (views_archive, views_filing, views_households, views_oversight, views_publicity,  # noqa: F401  (issue 13)
                   views_reform)
    app.jinja_env.globals['household_of_case'] = views_households.household_of_case
    from ..services.county_visits import visit_of
    app.jinja_env.globals['county_visit_of'] = visit_of   # the 100 % visit of a close relative's case
    from .referral_links import referrals_of_case
    app.jinja_env.globals['referrals_of_case'] = referrals_of_case   # moves between categories (issue 12)
    from . import views_attachments, views_casework  # noqa: F401  (drafts, comments, attachments, reassignment)
    from . import views_rosters  # noqa: F401  (issue 11: monthly rosters as Excel / CSV)
    fmt.install(app)
    people.install(app)
    install(app)
    app.register_blueprint(bp)
    app.jinja_env.globals.setdefault('bpmn_js_installed', vendor.bpmn_js_installed)
