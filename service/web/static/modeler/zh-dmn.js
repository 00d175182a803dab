// Chinese for what the designer sees of dmn-js's decision table (headers, context menu, editors).
// Cells are Python expressions in jiuzhu (processes/README.md), not FEEL: the labels say so where it matters.
(function () {
  var ZH = {
    'View DRD': '查看决策关系图', 'Hit policy': '命中规则', 'Hit policy:': '命中规则：', 'When': '当', 'And': '且',
    'Then': '则', 'Annotation': '说明', 'Annotations': '说明', 'Decision name': '决策名称', 'Decision name: ': '决策名称：',
    'Add rule': '添加规则行', 'Add rule above': '在上方添加规则行', 'Add rule below': '在下方添加规则行',
    'Remove rule': '删除规则行', 'Copy rule': '复制规则行', 'Cut rule': '剪切规则行', 'Move rule': '移动规则行',
    'Paste rule above': '粘贴到上方', 'Paste rule below': '粘贴到下方',
    'Add input': '添加输入列', 'Add output': '添加输出列', 'Add input column left': '在左侧添加输入列',
    'Add input column right': '在右侧添加输入列', 'Add output column left': '在左侧添加输出列',
    'Add output column right': '在右侧添加输出列', 'Remove input column': '删除输入列', 'Remove output column': '删除输出列',
    'Copy input column': '复制输入列', 'Copy output column': '复制输出列', 'Cut input column': '剪切输入列',
    'Cut output column': '剪切输出列', 'Paste input column left': '粘贴到左侧', 'Paste input column right': '粘贴到右侧',
    'Paste output column left': '粘贴到左侧', 'Paste output column right': '粘贴到右侧',
    'Add cell description': '添加单元格说明', 'Remove cell description': '删除单元格说明',
    'Input': '输入', 'Output': '输出', 'Input label': '输入名称', 'Input label: ': '输入名称：',
    'Input expression': '输入表达式（Python）', 'Input expression: ': '输入表达式：', 'Output label': '输出名称',
    'Output label: ': '输出名称：', 'Output name': '输出变量', 'Output name: ': '输出变量：', 'Input type': '输入类型',
    'Output type': '输出类型', 'Type': '类型', 'Expression': '表达式', 'Enter expression': '输入表达式',
    'Expression language': '表达式语言', 'Change cell expression language': '更改单元格的表达式语言',
    'Input values': '输入可选值', 'Output values': '输出可选值', 'Predefined values': '预设值', 'Add predefined values': '添加预设值',
    'Clear predefined values': '清除预设值', 'Add values': '添加值', 'Values': '值', 'Value': '值', 'No values': '没有值',
    'Edit': '编辑', 'Edit string': '编辑文字', 'Edit number': '编辑数字', 'Edit boolean': '编辑是/否', 'Edit date': '编辑日期',
    'Edit input': '编辑输入', 'Edit output': '编辑输出', 'Resize': '调整宽度', 'Yes': '是', 'No': '否',
    'Boolean value': '是/否', 'String value': '文字', 'Date': '日期', 'Time': '时间', 'Date and time': '日期和时间',
    'Comparison': '比较', 'Range': '范围', 'Equals': '等于', 'Less': '小于', 'Less or equals': '小于等于', 'Greater': '大于',
    'Greater or equals': '大于等于', 'Match one': '匹配其中之一', 'Match none': '都不匹配', 'Include': '包含', 'Exclude': '排除',
    'Set value': '设置值', 'Start value': '起始值', 'End value': '结束值', 'Custom values': '自定义值',
    'Strings must be in double quotes': '文字须加双引号',
    // Hit policies (the table's header shows the one chosen; the dropdown all of them) and their tooltips.
    'Unique': '唯一', 'First': '首个命中', 'Priority': '按优先级', 'Any': '任意', 'Collect': '汇总',
    'Collect (Sum)': '汇总（求和）', 'Collect (Min)': '汇总（最小值）', 'Collect (Max)': '汇总（最大值）',
    'Collect (Count)': '汇总（计数）', 'Rule order': '按规则顺序', 'Output order': '按输出优先级',
    'No overlap is possible and all rules are disjoint. Only a single rule can be matched': '规则互不重叠，只能命中一条规则',
    'Rules may overlap. The first matching rule will be chosen': '规则可以重叠，取第一条命中的规则',
    'Rules may overlap. The one with the highest priority will be chosen': '规则可以重叠，取优先级最高的一条',
    'Rules may overlap. Their output have to match': '规则可以重叠，命中规则的结果必须相同',
    'Collects the values of all matching rules': '汇总所有命中规则的结果',
    'Collects the values of all matching rules and sums up to a single value': '汇总所有命中规则的结果并求和',
    'Collects the values of all matching rules and uses the lowest value': '汇总所有命中规则的结果，取最小值',
    'Collects the values of all matching rules and uses the highest value': '汇总所有命中规则的结果，取最大值',
    'Collects the values of all matching rules and counts the number of them': '统计命中规则的条数',
    'Collects the values of all matching rules in rule order': '按规则顺序汇总所有命中规则的结果',
    'Collects the values of all matching rules in decreasing output priority order': '按输出优先级从高到低汇总命中规则的结果',
    // Data types (typeRef): shown under each column's name and in its type menu; the file keeps the DMN name.
    'string': '文字', 'boolean': '是/否', 'number': '数字', 'date': '日期', 'time': '时间', 'dateTime': '日期时间',
    'dayTimeDuration': '时长（天、时、分）', 'yearMonthDuration': '时长（年、月）',
    // Cell editors of dates, times, ranges; literal expressions; the decision diagram (DRD).
    'After': '晚于', 'Before': '早于', 'Between': '介于', 'Exactly': '等于', 'Comparison operator': '比较方式',
    'Date value': '日期', 'Date and time value': '日期和时间', 'Time value': '时间', 'Duration value': '时长',
    'Edit date and time': '编辑日期和时间', 'Edit duration': '编辑时长', 'Edit time': '编辑时间',
    'Edit start date': '编辑起始日期', 'Edit end date': '编辑结束日期', 'Edit start time': '编辑起始时间',
    'Edit end time': '编辑结束时间', 'Edit start date and time': '编辑起始日期和时间', 'Edit end date and time': '编辑结束日期和时间',
    'Start date': '起始日期', 'End date': '结束日期', 'Start time': '起始时间', 'End time': '结束时间',
    'Start date and time': '起始日期和时间', 'End date and time': '结束日期和时间',
    'Set date': '设置日期', 'Set time': '设置时间', 'Set date and time': '设置日期和时间', 'Set duration': '设置时长',
    'Range start operator': '范围起点比较方式', 'Range start value': '范围起点', 'Range end operator': '范围终点比较方式',
    'Range end value': '范围终点', 'Test type': '判断方式', 'Use now': '使用当前时间', 'Use today': '使用今天',
    'Editing not supported for set expression language': '这种表达式语言不能在这里编辑',
    'Expression language:': '表达式语言：', 'Expression language: {expressionLanguageLabel}': '表达式语言：{expressionLanguageLabel}',
    'e.g. { example } ': '例如 { example } ', 'e.g. { sample }': '例如 { sample }',
    '"value"': '"值"', '"value", "value", ...': '"值", "值", ...',
    'Literal expression editor': '表达式编辑器', 'Variable name': '变量名', 'Variable name:': '变量名：',
    'Variable type': '变量类型', 'Variable type:': '变量类型：', 'name': '名称', 'Definition ID': '定义标识',
    'Definition name': '定义名称', 'Delete': '删除', 'Change type': '更改类型', 'Connect to other element': '连接到其他元素',
    'Activate hand tool': '平移画布', 'Activate lasso tool': '框选', 'Add text annotation': '添加注释',
    'Append decision': '接决策', 'Append input data': '接输入数据', 'Append knowledge source': '接知识来源',
    'Append business knowledge model': '接业务知识模型', 'Create decision': '决策', 'Create input data': '输入数据',
    'Create knowledge model': '业务知识模型', 'Create knowledge source': '知识来源'
  };
  function translate(template, replacements) {
    var text = ZH[template] || template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (_, key) { return replacements[key] !== undefined ? replacements[key] : '{' + key + '}'; });
  }
  window.JiuzhuDmnZh = { module: { translate: ['value', translate] } };
}());
