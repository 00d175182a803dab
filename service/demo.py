"""Demo data for `jiuzhu serve --demo`: the processes, people in two townships and the county, cases."""
import logging

from .config import ROOT
from .services import repository

log = logging.getLogger('jiuzhu.demo')


def load_demo():
    for definition, new in repository.deploy_directory(ROOT / 'processes', 'demo'):
        log.info('%s %s v%s', 'deployed' if new else 'unchanged', definition.key, definition.version)
