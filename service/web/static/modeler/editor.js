// The browser modeler page: one tab per file (the diagram opened, what it calls, its decision
// tables), bpmn-js Modeler + properties panel for diagrams, dmn-js for decision tables. Save draft,
// validate (problems select their element), preview (the deploy preview page, then deploy).
(function () {
  var page = document.getElementById('modeler-page');
  if (!page) { return; }
  var data = JSON.parse(document.getElementById('modeler-data').textContent);
  var errorBox = document.getElementById('diagram-error');
  var statusBox = document.getElementById('modeler-status');
  var canvasBox = document.getElementById('modeler-canvas');
  var panelBox = document.getElementById('modeler-panel');
  var csrf = document.getElementById('modeler-csrf').value;
  var tabs = [];
  var active = null;

  function fail(text) { errorBox.textContent = text; errorBox.hidden = false; }
  function status(text) { statusBox.textContent = text; }
  // Phones get the message of the page instead (CSS): nothing to edit with there.
  if (window.matchMedia('(max-width: 760px)').matches) { return; }
  if (!window.BpmnJS || !window.DmnJS) {
    fail('流程图编辑组件未安装：请在项目根目录运行 npm ci（make run 会自动安装）。');
    return;
  }

  function listInto(box, items) {
    var list = box.querySelector('ul');
    list.textContent = '';
    items.forEach(function (item) { list.appendChild(item); });
    box.hidden = !items.length;
  }

  // bpmn-moddle's import warnings are English: the common ones in Chinese, the element kept.
  var WARNINGS = [[/unparsable content <([^>]+)> detected/, '无法解析的内容 <$1>（文件中可能有不符合 BPMN 2.0 的部分）'],
    [/unresolved reference <([^>]+)>/, '找不到引用的元素 <$1>'], [/unknown type <([^>]+)>/, '无法识别的类型 <$1>'],
    [/failed to import/, '无法导入']];
  function zhWarning(message) {
    var text = String(message || '');
    for (var i = 0; i < WARNINGS.length; i += 1) {
      var m = text.match(WARNINGS[i][0]);
      if (m) { return m[0].replace(WARNINGS[i][0], WARNINGS[i][1]); }
    }
    return text;
  }

  function showWarnings(tab, warnings) {
    var items = (warnings || []).map(function (w) {
      var id = w.element && w.element.id ? '（元素 ' + w.element.id + '）' : '';
      var li = document.createElement('li');
      li.textContent = tab.path + '：' + zhWarning(w.message || String(w)) + id;
      return li;
    });
    tab.warnings = items;
    listInto(document.getElementById('modeler-warnings'), items);
  }

  function createBpmn(tab) {
    var modeler = new window.BpmnJS({
      container: tab.box,
      additionalModules: [window.JiuzhuModelerZh.module],
      moddleExtensions: { spiffworkflow: window.JiuzhuSpiffModdle }
    });
    tab.panelBox = document.createElement('div');
    panelBox.appendChild(tab.panelBox);
    window.JiuzhuPanel(modeler, tab.panelBox);
    modeler.on('commandStack.changed', function (e) { if (e.trigger !== 'clear') { tab.dirty = true; } });
    return modeler;
  }

  function openDecisionTable(tab) {
    var views = tab.editor.getViews();
    var table = views.filter(function (v) { return v.type === 'decisionTable'; })[0];
    if (table) { return tab.editor.open(table); }
    return Promise.resolve();
  }

  function createDmn(tab) {
    // Each view takes its own modules (a `common` list would be replaced by the view's own).
    var zh = { additionalModules: [window.JiuzhuDmnZh.module] };
    var modeler = new window.DmnJS({ container: tab.box, drd: zh, decisionTable: zh, literalExpression: zh, boxedExpression: zh });
    modeler.on('views.changed', function () {
      var viewer = modeler.getActiveViewer();
      if (viewer && !viewer.jiuzhuWatched) {
        viewer.jiuzhuWatched = true;
        viewer.on('commandStack.changed', function (e) { if (e.trigger !== 'clear') { tab.dirty = true; } });
      }
    });
    return modeler;
  }

  function load(tab, xml) {
    return tab.editor.importXML(xml).then(function (result) {
      showWarnings(tab, result.warnings);
      if (tab.kind === 'bpmn') {
        tab.editor.get('canvas').zoom('fit-viewport', 'auto');
        return result;
      }
      return openDecisionTable(tab).then(function () { return result; });
    });
  }

  function show(tab) {
    tabs.forEach(function (t) {
      t.box.hidden = t !== tab;
      t.button.setAttribute('aria-pressed', t === tab ? 'true' : 'false');
      if (t.panelBox) { t.panelBox.hidden = t !== tab; }
    });
    panelBox.hidden = tab.kind !== 'bpmn';
    canvasBox.setAttribute('data-kind', tab.kind);
    active = tab;
    if (!tab.editor) {
      tab.editor = tab.kind === 'bpmn' ? createBpmn(tab) : createDmn(tab);
      tab.ready = load(tab, tab.xml).then(function () {
        canvasBox.setAttribute('data-state', 'ready');
      }, function (err) {
        fail(tab.path + ' 无法打开：' + (err && err.message ? err.message : String(err)));
        canvasBox.setAttribute('data-state', 'error');
      });
    } else {
      listInto(document.getElementById('modeler-warnings'), tab.warnings || []);
    }
    return tab.ready;
  }

  var tabBar = document.getElementById('modeler-tabs');
  data.tabs.forEach(function (t) {
    var tab = { path: t.path, kind: t.kind, xml: t.xml, dirty: data.edited.indexOf(t.path) >= 0 || t.path === data.path };
    tab.box = document.createElement('div');
    tab.box.className = 'modeler-editor modeler-' + t.kind;
    tab.box.setAttribute('data-path', t.path);
    canvasBox.appendChild(tab.box);
    tab.button = document.createElement('button');
    tab.button.type = 'button';
    tab.button.className = 'modeler-tab mono';
    tab.button.setAttribute('data-path', t.path);
    tab.button.textContent = t.path.split('/').pop();
    tab.button.title = t.path;
    tab.button.addEventListener('click', function () { show(tab); });
    tabBar.appendChild(tab.button);
    tabs.push(tab);
  });

  function exportTab(tab) {
    if (!tab.editor) { return Promise.resolve(tab.xml); }
    return tab.ready.then(function () { return tab.editor.saveXML({ format: true }); }).then(function (r) { return r.xml; });
  }

  // The draft's files: the diagram opened, and every other file once it was changed.
  function collect() {
    var chosen = tabs.filter(function (t) { return t.dirty; });
    return Promise.all(chosen.map(exportTab)).then(function (texts) {
      var files = {};
      chosen.forEach(function (t, i) { files[t.path] = texts[i]; });
      return files;
    });
  }

  function post(url, fields) {
    var body = new FormData();
    body.append('csrf_token', csrf);
    Object.keys(fields).forEach(function (k) { if (fields[k] !== null && fields[k] !== undefined) { body.append(k, fields[k]); } });
    return fetch(url, { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('服务器答复 ' + response.status); }
        return response.json();
      });
  }

  function save() {
    status('正在保存…');
    return collect().then(function (files) {
      return post(data.urls.save, { path: data.path, base_definition_id: data.base_id, files: JSON.stringify(files) });
    }).then(function (answer) {
      status('草稿已保存');
      page.setAttribute('data-saved', answer.saved_at);
      return answer;
    }, function (err) { status('保存失败：' + err.message); throw err; });
  }

  function selectElement(file, elementId) {
    var tab = tabs.filter(function (t) { return t.path === file; })[0] || active;
    return show(tab).then(function () {
      if (tab.kind !== 'bpmn' || !elementId) { return; }
      var element = tab.editor.get('elementRegistry').get(elementId);
      if (!element) { return; }
      tab.editor.get('selection').select(element);
      tab.editor.get('canvas').zoom(1);          // readable, then the element in view
      tab.editor.get('canvas').scrollToElement(element);
    });
  }

  function showProblems(result) {
    var box = document.getElementById('modeler-problems');
    var ok = document.getElementById('modeler-ok');
    document.getElementById('modeler-problems-title').textContent = result.message || '校验未通过';
    var items = (result.problems || []).map(function (p) {
      var li = document.createElement('li');
      var link = document.createElement('button');
      link.type = 'button';
      link.className = 'problem';
      link.setAttribute('data-element', p.element || '');
      link.textContent = (p.file || '') + (p.line ? ' 第 ' + p.line + ' 行' : '') + (p.element ? ' ' + p.element : '') + '：' + p.message;
      link.addEventListener('click', function () { selectElement(p.file, p.element); });
      li.appendChild(link);
      return li;
    });
    listInto(box, result.ok ? [] : items);
    ok.hidden = !result.ok;
    ok.textContent = result.ok ? '校验通过' + ((result.warnings || []).length ? '（有 ' + result.warnings.length + ' 条提示，预览时列出）' : '') : '';
  }

  function validate() {
    status('正在校验…');
    return collect().then(function (files) {
      return post(data.urls.validate, { files: JSON.stringify(files) });
    }).then(function (result) {
      status(result.ok ? '校验通过' : '校验未通过');
      showProblems(result);
      return result;
    }, function (err) { status('校验失败：' + err.message); });
  }

  document.getElementById('modeler-save').addEventListener('click', function () { save(); });
  document.getElementById('modeler-validate').addEventListener('click', function () { validate(); });
  document.getElementById('modeler-preview').addEventListener('click', function () {
    save().then(function () { document.getElementById('modeler-preview-form').submit(); });
  });

  // For the browser tests (and the curious): import any diagram into the first tab and export it.
  window.jiuzhuEditor = {
    tabs: tabs,
    show: function (path) { return show(tabs.filter(function (t) { return t.path === path; })[0]); },
    importXML: function (xml) { return show(tabs[0]).then(function () { return load(tabs[0], xml); }); },
    saveXML: function () { return exportTab(tabs[0]); },
    // Readable size around an element of the active diagram, as a designer zooms in to work on it.
    reveal: function (id) {
      var canvas = active.editor.get('canvas');
      canvas.zoom(1);
      canvas.scrollToElement(active.editor.get('elementRegistry').get(id));
    },
    save: save,
    validate: validate
  };
  page.setAttribute('data-tabs', String(tabs.length));
  show(tabs[0]);
}());
