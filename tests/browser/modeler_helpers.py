"""Driving the browser modeler: wait for it, drag a shape into a lane, read the spiffworkflow
extensions of a diagram (for the round trip)."""
from lxml import etree

SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'


def open_editor(page):
    page.wait_for_selector('#modeler-canvas[data-state=ready]')


def element_box(page, element_id):
    return page.locator(f'.djs-element[data-element-id="{element_id}"]').first.bounding_box()


def drag_into_lane(page, element_id, lane_id):
    """Drag a shape with the mouse, as a designer would, and drop it near the top of another lane
    (a spot without shapes: the lane itself is the drop target)."""
    page.evaluate('id => window.jiuzhuEditor.reveal(id)', element_id)
    task, lane = element_box(page, element_id), element_box(page, lane_id)
    x, y = task['x'] + task['width'] / 2, task['y'] + task['height'] / 2
    target_y = lane['y'] + min(12, lane['height'] / 4) + task['height'] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    steps = 12
    for i in range(1, steps + 1):
        page.mouse.move(x + 2 * i, y + (target_y - y) * i / steps)
    page.mouse.up()


def spiff_extensions(xml):
    """Every spiffworkflow element and attribute of a diagram as a sorted list of
    (owner id, path of spiff tags, attributes, text): formatting and order of owners do not count."""
    root = etree.fromstring(xml.encode('utf-8') if isinstance(xml, str) else xml)
    out = []
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        owner = node
        while owner is not None and owner.get('id') is None:
            owner = owner.getparent()
        owner_id = owner.get('id') if owner is not None else ''
        spiff_attrs = {k: v for k, v in node.attrib.items() if k.startswith('{' + SPIFF_NS + '}')}
        if spiff_attrs:
            out.append((owner_id, 'attributes', tuple(sorted(spiff_attrs.items())), ''))
        if etree.QName(node).namespace != SPIFF_NS:
            continue
        path, parent = [etree.QName(node).localname], node.getparent()
        while parent is not None and etree.QName(parent).namespace == SPIFF_NS:
            path.insert(0, etree.QName(parent).localname)
            parent = parent.getparent()
        out.append((owner_id, '/'.join(path), tuple(sorted(node.attrib.items())), (node.text or '').strip()))
    return sorted(out)


def watch_csp(person):
    """The browser's refusals under the Content-Security-Policy, as they are logged to the console."""
    refused = []
    person.page.on('console', lambda msg: refused.append(msg.text) if 'Content Security Policy' in msg.text else None)
    return refused


# What the designer writes is theirs (ids, variable names, Python expressions in cells); the editor's own
# words must be Chinese. The crawl's rule (tests/browser/test_browser_pages.py) on what is left.
DESIGNER_TEXT = ('.mono', '.modeler-dmn tbody td', '.modeler-dmn .input-expression', '.modeler-dmn .output-name',
                 '.djs-label', '#modeler-panel input', '#modeler-panel textarea')


# The designer's own vocabulary beside the crawl's: the language of scripts and cells, the timer standard.
MODELER_WORDS = {'Python', 'ISO'}


def latin_words(page, scope='#modeler-page'):
    """The Latin words of the text on screen in `scope`, besides the designer's own (DESIGNER_TEXT)."""
    from .test_browser_pages import ALLOWED_WORDS, FILE_NAME, WORD
    text = page.evaluate("""([scope, skip]) => {
        const out = [];
        const walker = document.createTreeWalker(document.querySelector(scope), NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const owner = node.parentElement;
            if (owner.closest(skip) || !owner.checkVisibility({ visibilityProperty: true })) { continue; }
            out.push(node.nodeValue);
        }
        return out.join(' ');
    }""", [scope, ', '.join(DESIGNER_TEXT)])
    return sorted({w for w in WORD.findall(FILE_NAME.sub(' ', text)) if w not in ALLOWED_WORDS | MODELER_WORDS})
