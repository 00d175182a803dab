// Draws the page's BPMN XML with bpmn-js's NavigatedViewer and marks the case's progress.
// It opens at a readable zoom (1 : 1, never below 0.8) centred on where the case stands (the step
// that failed, the current task, an overdue step), or on the start event; 全图 shows everything.
(function () {
  var box = document.getElementById('diagram');
  if (!box) { return; }
  var errorBox = document.getElementById('diagram-error');
  var READABLE = 1.0;
  function fail(text) {
    box.setAttribute('data-state', 'error');
    errorBox.textContent = text;
    errorBox.hidden = false;
  }
  if (!window.BpmnJS) {
    fail('流程图组件 bpmn-js 未安装：请在项目根目录运行 npm ci（make run 会自动安装）。');
    return;
  }
  var xml = JSON.parse(document.getElementById('diagram-xml').textContent);
  var markers = JSON.parse(document.getElementById('diagram-markers').textContent || '{}');
  var viewer = new window.BpmnJS({ container: box });

  function showWarnings(warnings) {
    var list = document.getElementById('diagram-warnings');
    if (!list || !warnings || !warnings.length) { return; }
    warnings.forEach(function (warning) {
      var item = document.createElement('li');
      var element = warning.element && warning.element.id ? '（元素 ' + warning.element.id + '）' : '';
      item.textContent = (warning.message || String(warning)) + element;
      list.appendChild(item);
    });
    list.closest('.diagram-warnings').hidden = false;
  }

  viewer.importXML(xml).then(function (result) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    // 'failed': the step an open incident stopped at.
    ['completed', 'active', 'overdue', 'failed'].forEach(function (kind) {
      (markers[kind] || []).forEach(function (id) {
        // Ids of called processes are not in this diagram.
        var element = registry.get(id);
        if (!element) { return; }
        // An expanded subprocess is a frame around other marked elements: outline it, never fill it.
        var frame = element.type === 'bpmn:SubProcess' && !element.collapsed;
        canvas.addMarker(id, (frame ? 'marker-frame-' : 'marker-') + kind);
      });
    });

    function focusElement() {
      var ids = [].concat(markers.failed || [], markers.active || [], markers.overdue || []);
      for (var i = 0; i < ids.length; i += 1) {
        var element = registry.get(ids[i]);
        if (element && !(element.type === 'bpmn:SubProcess' && !element.collapsed)) { return element; }
      }
      var starts = registry.filter(function (e) { return e.type === 'bpmn:StartEvent' && !e.parent.parent; });
      starts.sort(function (a, b) { return a.x - b.x; });
      return starts[0] || null;
    }
    function record() { box.setAttribute('data-zoom', canvas.zoom().toFixed(2)); }
    function showAll() { canvas.zoom('fit-viewport', 'auto'); record(); }
    function showFocus() {
      var element = focusElement();
      if (!element) { showAll(); return; }
      canvas.zoom(READABLE);
      var view = canvas.viewbox();
      // The focus a little left of the middle: what comes next (to its right) is in view too.
      canvas.viewbox({ x: element.x + element.width / 2 - view.width / 3, y: element.y + element.height / 2 - view.height / 2,
                       width: view.width, height: view.height });
      box.setAttribute('data-focus', element.id);
      record();
    }
    function zoomBy(step) { canvas.zoom(Math.max(0.2, Math.min(3, canvas.zoom() * step))); record(); }

    var actions = { all: showAll, focus: showFocus, 'in': function () { zoomBy(1.25); }, out: function () { zoomBy(0.8); } };
    var tools = document.getElementById('diagram-tools');
    if (tools) {
      tools.hidden = false;
      tools.addEventListener('click', function (event) {
        var button = event.target.closest('button[data-diagram]');
        if (button && actions[button.getAttribute('data-diagram')]) { actions[button.getAttribute('data-diagram')](); }
      });
    }
    viewer.on('canvas.viewbox.changed', record);
    showFocus();
    showWarnings(result && result.warnings);
    box.setAttribute('data-state', 'ready');
  }).catch(function (err) {
    showWarnings(err && err.warnings);
    fail('流程图无法显示：' + err.message);
  });
})();
