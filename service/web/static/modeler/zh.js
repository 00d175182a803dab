// Chinese for what the designer sees of bpmn-js: palette, context pad, the "change element" menu.
// bpmn-js asks its `translate` service for every label; what is not listed here stays as it is.
(function () {
  var ZH = {
    'Activate hand tool': '平移画布', 'Activate lasso tool': '框选', 'Activate create/remove space tool': '插入或删除空白',
    'Activate global connect tool': '连线', 'Create start event': '开始事件', 'Create end event': '结束事件',
    'Create intermediate/boundary event': '中间事件或边界事件', 'Create gateway': '网关', 'Create task': '任务',
    'Create expanded sub-process': '子流程（展开）', 'Create data object reference': '数据对象',
    'Create data store reference': '数据存储', 'Create pool/participant': '池（参与者）', 'Create group': '分组',
    'Append end event': '接结束事件', 'Append gateway': '接网关', 'Append task': '接任务',
    'Append intermediate/boundary event': '接中间事件', 'Append receive task': '接接收任务',
    'Append message intermediate catch event': '接消息等待事件', 'Append timer intermediate catch event': '接定时等待事件',
    'Append conditional intermediate catch event': '接条件等待事件', 'Append signal intermediate catch event': '接信号等待事件',
    'Append compensation activity': '接补偿活动', 'Add text annotation': '添加注释', 'Change element': '更改类型',
    'Delete': '删除', 'Connect to other element': '连接到其他元素', 'Connect using association': '用关联连接',
    'Connect using data input association': '用数据输入关联连接', 'Add lane above': '在上方加泳道',
    'Add lane below': '在下方加泳道', 'Divide into two lanes': '分成两个泳道', 'Divide into three lanes': '分成三个泳道',
    'Align elements': '对齐', 'Distribute elements horizontally': '水平等距分布', 'Distribute elements vertically': '垂直等距分布',
    'Search in diagram': '在流程图中查找', 'Toggle non-interrupting': '切换为不中断/中断', 'Open {element}': '打开 {element}',
    'Loop': '循环', 'Parallel multi-instance': '并行多实例', 'Sequential multi-instance': '顺序多实例', 'Collection': '集合',
    'Participant multiplicity': '参与者多实例',
    'Task': '任务', 'User task': '人工任务（用户任务）', 'Manual task': '手工任务', 'Service task': '服务任务',
    'Script task': '脚本任务', 'Business rule task': '业务规则任务（决策表）', 'Send task': '发送任务',
    'Receive task': '接收任务', 'Call activity': '调用活动', 'Sub-process': '子流程', 'Sub-process (collapsed)': '子流程（折叠）',
    'Sub-process (expanded)': '子流程（展开）', 'Event sub-process': '事件子流程', 'Transaction': '事务',
    'Ad-hoc sub-process': '自由子流程', 'Ad-hoc sub-process (collapsed)': '自由子流程（折叠）',
    'Ad-hoc sub-process (expanded)': '自由子流程（展开）',
    'Exclusive gateway': '排他网关', 'Parallel gateway': '并行网关', 'Inclusive gateway': '包容网关',
    'Complex gateway': '复杂网关', 'Event-based gateway': '事件网关',
    'Start event': '开始事件', 'End event': '结束事件', 'Intermediate throw event': '中间抛出事件', 'Boundary event': '边界事件',
    'Message start event': '消息开始事件', 'Timer start event': '定时开始事件', 'Conditional start event': '条件开始事件',
    'Signal start event': '信号开始事件', 'Error start event': '错误开始事件', 'Message end event': '消息结束事件',
    'Error end event': '错误结束事件', 'Terminate end event': '终止结束事件', 'Signal end event': '信号结束事件',
    'Escalation end event': '升级结束事件', 'Cancel end event': '取消结束事件', 'Compensation end event': '补偿结束事件',
    'Message intermediate catch event': '消息等待事件', 'Message intermediate throw event': '消息抛出事件',
    'Timer intermediate catch event': '定时等待事件', 'Conditional intermediate catch event': '条件等待事件',
    'Signal intermediate catch event': '信号等待事件', 'Signal intermediate throw event': '信号抛出事件',
    'Link intermediate catch event': '链接捕获事件', 'Link intermediate throw event': '链接抛出事件',
    'Escalation intermediate throw event': '升级抛出事件', 'Compensation intermediate throw event': '补偿抛出事件',
    'Message boundary event': '消息边界事件', 'Timer boundary event': '定时边界事件', 'Error boundary event': '错误边界事件',
    'Signal boundary event': '信号边界事件', 'Escalation boundary event': '升级边界事件', 'Cancel boundary event': '取消边界事件',
    'Conditional boundary event': '条件边界事件', 'Compensation boundary event': '补偿边界事件',
    'Message boundary event (non-interrupting)': '消息边界事件（不中断）', 'Timer boundary event (non-interrupting)': '定时边界事件（不中断）',
    'Signal boundary event (non-interrupting)': '信号边界事件（不中断）', 'Escalation boundary event (non-interrupting)': '升级边界事件（不中断）',
    'Conditional boundary event (non-interrupting)': '条件边界事件（不中断）',
    'Sequence flow': '顺序流', 'Default flow': '默认流', 'Conditional flow': '条件流',
    'Data object reference': '数据对象', 'Data store reference': '数据存储',
    'Expanded pool/participant': '池（展开）', 'Empty pool/participant': '池（空）',
    // diagram-js / bpmn-js messages while importing
    'unparsable content <{type}> detected; this may indicate an invalid BPMN 2.0 diagram file': '发现无法解析的内容 <{type}>，文件可能不是有效的流程图',
    'element {element} referenced by {property}#{referenceProperty} not yet drawn': '{property} 引用的元素 {element} 尚未绘制',
    'missing {semantic}#attachedToRef': '{semantic} 缺少所附着的元素',
    'multiple DI elements defined for {element}': '元素 {element} 有多个图形定义',
    'no bpmnElement referenced in {element}': '{element} 没有对应的流程元素',
    'unknown di {di} for element {semantic}': '元素 {semantic} 的图形定义 {di} 无法识别',
    'no diagram to display': '没有可显示的流程图', 'no process or collaboration to display': '没有可显示的流程或协作图',
    'already rendered {element}': '元素 {element} 已绘制过'
  };

  function translate(template, replacements) {
    var text = ZH[template] || template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (_, key) { return replacements[key] !== undefined ? replacements[key] : '{' + key + '}'; });
  }

  window.JiuzhuModelerZh = { translate: translate, module: { translate: ['value', translate] } };
}());
