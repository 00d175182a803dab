// The properties panel: what jiuzhu reads from an element, edited through bpmn-js's modeling
// commands (so undo/redo and the export see every change). Lanes are visual: move the element.
// window.JiuzhuPanel(modeler, container) renders the selected element (or the process when none is).
(function () {
  var KNOWN = {
    formJsonSchemaFilename: '表单文件', formUiSchemaFilename: '表单界面文件', startForm: '申请表单（校验开始数据）',
    notice: '产生的文书', milestone: '节点（受理或决定）', separateFrom: '不得由同一人办理的环节',
    category: '救助类别', variant: '流程类型'
  };
  var TIMER_KINDS = { timeDate: '到期时间', timeDuration: '等待时长', timeCycle: '重复周期' };
  // [before the example, the example (an expression: monospace), after it]
  var TIMER_HELP = {
    timeDate: ['到达这个时间时触发，例如 ', 'add_days(publicity_started_at, 7)', '（公示开始后第 7 天）。'],
    timeDuration: ['从到达这里起等待这么久，例如 ', '"P10D"', '（10 天），也可写表达式。'],
    timeCycle: ['按周期重复触发，例如 ', '"R3/P1D"', '（每天一次，共 3 次）。']
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }

  window.JiuzhuPanel = function (modeler, container) {
    var modeling = modeler.get('modeling');
    var moddle = modeler.get('moddle');
    var canvas = modeler.get('canvas');
    var current = null;

    function field(label, value, onChange, opts) {
      opts = opts || {};
      var id = 'prop-' + (opts.name || label).replace(/[^\w-]/g, '_');
      var input = el(opts.multiline ? 'textarea' : 'input', { id: id, 'data-field': opts.name || '' });
      if (!opts.multiline) { input.type = 'text'; }
      if (opts.multiline) { input.rows = opts.rows || 4; }
      input.value = value || '';
      if (opts.readOnly) { input.readOnly = true; }
      input.addEventListener('change', function () { onChange(input.value); });
      return el('div', { 'class': 'panel-field' }, [el('label', { 'for': id, text: label }), input]);
    }

    // The business object whose extensions hold the process's properties, and the shape to record
    // commands on: a participant stands for its process.
    function target(element) {
      var bo = element.businessObject;
      if (is(bo, 'bpmn:Participant') && bo.processRef) { return { element: element, bo: bo.processRef }; }
      if (is(bo, 'bpmn:Collaboration')) {
        var first = (bo.participants || []).filter(function (p) { return p.processRef; })[0];
        var shape = first && modeler.get('elementRegistry').get(first.id);
        return first ? { element: shape || element, bo: first.processRef } : { element: element, bo: bo };
      }
      return { element: element, bo: bo };
    }

    function extension(bo, type) {
      var values = (bo.extensionElements && bo.extensionElements.values) || [];
      return values.filter(function (v) { return v.$type === type; })[0];
    }

    function ensureExtension(t, type, attrs) {
      var found = extension(t.bo, type);
      if (found) { return found; }
      var ext = t.bo.extensionElements;
      if (!ext) {
        ext = moddle.create('bpmn:ExtensionElements', { values: [] });
        ext.$parent = t.bo;
        modeling.updateModdleProperties(t.element, t.bo, { extensionElements: ext });
      }
      var created = moddle.create(type, attrs || {});
      created.$parent = ext;
      modeling.updateModdleProperties(t.element, ext, { values: (ext.values || []).concat([created]) });
      return created;
    }

    function propertiesSection(t) {
      var props = extension(t.bo, 'spiffworkflow:Properties');
      var list = (props && props.properties) || [];
      var rows = list.map(function (p) {
        var label = KNOWN[p.name] ? KNOWN[p.name] : '属性';
        var input = field(label, p.value, function (value) {
          modeling.updateModdleProperties(t.element, p, { value: value });
        }, { name: 'property-' + p.name });
        input.insertBefore(el('span', { 'class': 'mono prop-name', text: p.name }), input.lastChild);
        var remove = el('button', { type: 'button', 'class': 'prop-remove', text: '移除' });
        remove.addEventListener('click', function () {
          modeling.updateModdleProperties(t.element, props, { properties: props.properties.filter(function (x) { return x !== p; }) });
        });
        input.appendChild(remove);
        return input;
      });
      var select = el('select', { id: 'prop-new-name', 'aria-label': '属性名' },
        Object.keys(KNOWN).map(function (k) { return el('option', { value: k, text: KNOWN[k] }); }));
      var value = el('input', { type: 'text', id: 'prop-new-value', 'aria-label': '属性值' });
      var add = el('button', { type: 'button', id: 'prop-add', text: '添加属性' });
      add.addEventListener('click', function () {
        if (!value.value) { value.focus(); return; }
        var holder = ensureExtension(t, 'spiffworkflow:Properties', { properties: [] });
        var prop = moddle.create('spiffworkflow:Property', { name: select.value, value: value.value });
        prop.$parent = holder;
        modeling.updateModdleProperties(t.element, holder, { properties: (holder.properties || []).concat([prop]) });
      });
      return el('section', { 'class': 'panel-group', id: 'panel-properties' },
        [el('h3', { text: '属性（表单、文书、节点等）' })].concat(rows,
          [el('div', { 'class': 'panel-add' }, [select, value, add])]));
    }

    function laneSection(element) {
      var lanes = [];
      modeler.get('elementRegistry').filter(function (e) { return is(e.businessObject, 'bpmn:Lane'); }).forEach(function (lane) {
        if ((lane.businessObject.flowNodeRef || []).indexOf(element.businessObject) >= 0) { lanes.push(lane.businessObject.name || lane.id); }
      });
      return el('section', { 'class': 'panel-group', id: 'panel-lane' }, [
        el('h3', { text: '泳道（办理人）' }),
        el('p', { id: 'panel-lane-name', text: lanes.length ? lanes.join('、') : '不在任何泳道中' }),
        el('p', { 'class': 'help', text: '把环节拖到另一个泳道里即可更换办理人；子流程里的环节以最里层的泳道为准。' })]);
    }

    // A timer is one of three kinds (a date, a wait, a repeating cycle): the kind is a choice, and
    // changing it moves the expression to the new kind in one command (undo restores both).
    function timerSection(element, def) {
      var kinds = Object.keys(TIMER_KINDS);
      var kind = kinds.filter(function (k) { return def[k]; })[0] || 'timeDuration';
      var expr = def[kind];
      var select = el('select', { id: 'prop-timer-kind', 'data-field': 'timer-kind' },
        kinds.map(function (k) { return el('option', { value: k, text: TIMER_KINDS[k] }); }));
      select.value = kind;
      select.addEventListener('change', function () {
        var change = {};
        kinds.forEach(function (k) { change[k] = undefined; });
        change[select.value] = moddle.create('bpmn:FormalExpression', { body: expr ? expr.body : '' });
        modeling.updateModdleProperties(element, def, change);
      });
      var help = el('p', { 'class': 'help', id: 'panel-timer-help' }, [document.createTextNode(TIMER_HELP[kind][0]),
        el('span', { 'class': 'mono', text: TIMER_HELP[kind][1] }), document.createTextNode(TIMER_HELP[kind][2])]);
      return el('section', { 'class': 'panel-group', id: 'panel-timer' }, [el('h3', { text: '定时' }),
        el('div', { 'class': 'panel-field' }, [el('label', { 'for': 'prop-timer-kind', text: '定时方式' }), select]),
        field('表达式', expr ? expr.body : '', function (value) {
          if (expr) { modeling.updateModdleProperties(element, expr, { body: value }); return; }
          var change = {}; change[kind] = moddle.create('bpmn:FormalExpression', { body: value });
          modeling.updateModdleProperties(element, def, change);
        }, { name: 'timer' }), help]);
    }

    function conditionSection(element) {
      var bo = element.businessObject;
      return el('section', { 'class': 'panel-group', id: 'panel-condition' }, [el('h3', { text: '分支条件' }),
        field('条件表达式（为空则无条件）', bo.conditionExpression ? bo.conditionExpression.body : '', function (value) {
          if (bo.conditionExpression && value) { modeling.updateModdleProperties(element, bo.conditionExpression, { body: value }); return; }
          modeling.updateProperties(element, { conditionExpression: value ? moddle.create('bpmn:FormalExpression', { body: value }) : undefined });
        }, { name: 'condition', multiline: true, rows: 2 })]);
    }

    function bodySection(t, type, title, label, name) {
      var found = extension(t.bo, type);
      return el('section', { 'class': 'panel-group', id: 'panel-' + name }, [el('h3', { text: title }),
        field(label, found ? found.value : '', function (value) {
          if (found) { modeling.updateModdleProperties(t.element, found, { value: value }); return; }
          ensureExtension(t, type, { value: value });
        }, { name: name, multiline: name.indexOf('script') >= 0, rows: 3 })]);
    }

    function messageSection(element, message) {
      var section = bodySection({ element: element, bo: message }, 'spiffworkflow:MessageVariable', '消息',
        '消息数据存入的变量', 'message-variable');
      section.insertBefore(el('p', {}, [el('span', { text: '消息名称：' }), el('span', { 'class': 'mono', text: message.name || message.id })]),
        section.children[1]);
      return section;
    }

    function render(element) {
      current = element || canvas.getRootElement();
      container.textContent = '';
      if (!current || !current.businessObject) { return; }    // nothing imported yet
      var t = target(current);
      var bo = current.businessObject;
      var parts = [el('h2', { text: '元素属性' }),
        field('标识', t.bo.id, function () {}, { name: 'id', readOnly: true }),
        field('名称', t.bo.name, function (value) { modeling.updateProperties(t.element, { name: value }); }, { name: 'name' })];
      if (is(t.bo, 'bpmn:FlowNode')) { parts.push(laneSection(current)); }
      (bo.eventDefinitions || []).forEach(function (def) {
        if (def.$type === 'bpmn:TimerEventDefinition') { parts.push(timerSection(current, def)); }
      });
      if (is(bo, 'bpmn:SequenceFlow')) { parts.push(conditionSection(current)); }
      if (is(bo, 'bpmn:ScriptTask')) {
        parts.push(el('section', { 'class': 'panel-group', id: 'panel-script' }, [el('h3', { text: '脚本' }),
          field('脚本（Python）', bo.script, function (value) { modeling.updateProperties(current, { script: value }); },
            { name: 'script', multiline: true, rows: 8 })]));
      }
      if (is(bo, 'bpmn:BusinessRuleTask')) {
        parts.push(bodySection(t, 'spiffworkflow:CalledDecisionId', '决策表', '决策表标识', 'decision'));
      }
      if (is(t.bo, 'bpmn:Process') || is(t.bo, 'bpmn:Task') || is(t.bo, 'bpmn:StartEvent') || is(t.bo, 'bpmn:SubProcess') ||
          is(t.bo, 'bpmn:CallActivity')) {
        parts.push(propertiesSection(t));
      }
      (bo.eventDefinitions || []).forEach(function (def) {
        // The message's variable (where its data lands) lives on the message itself, shared by its events.
        if (def.$type === 'bpmn:MessageEventDefinition' && def.messageRef) { parts.push(messageSection(current, def.messageRef)); }
      });
      if (is(bo, 'bpmn:ReceiveTask') && bo.messageRef) { parts.push(messageSection(current, bo.messageRef)); }
      if (is(bo, 'bpmn:Activity')) {
        parts.push(bodySection(t, 'spiffworkflow:PreScript', '办理前脚本', '脚本（Python）', 'prescript'));
        parts.push(bodySection(t, 'spiffworkflow:PostScript', '办理后脚本', '脚本（Python）', 'postscript'));
      }
      parts.forEach(function (p) { container.appendChild(p); });
      container.setAttribute('data-element', t.bo.id || '');
    }

    modeler.on('selection.changed', function (e) { render(e.newSelection.length === 1 ? e.newSelection[0] : null); });
    modeler.on('commandStack.changed', function () {
      var registry = modeler.get('elementRegistry');
      render(current && registry.get(current.id) ? registry.get(current.id) : null);
    });
    modeler.on('import.done', function () { render(null); });
    return { render: render };
  };
}());
