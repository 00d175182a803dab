// Draws the page's BPMN XML with bpmn-js's NavigatedViewer and marks the case's progress.
(function () {
  var box = document.getElementById('diagram');
  if (!box) { return; }
  var errorBox = document.getElementById('diagram-error');
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
  viewer.importXML(xml).then(function () {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    canvas.zoom('fit-viewport', 'auto');
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
    box.setAttribute('data-state', 'ready');
  }).catch(function (err) {
    fail('流程图无法显示：' + err.message);
  });
})();
